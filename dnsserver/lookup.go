package dnsserver

import (
	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/wire"
)

// lookup is step 3, the fast path: the answer already packed for the
// query's decision, fresh at now, or nil. It allocates nothing.
func (s *Server) lookup(st *State, q *query) (*cache.Answer, int64) {
	opts := q.msg.Opts()
	key := wire.Key(q.lname, q.msg.Qtype, q.msg.Qclass, opts)
	now := st.clock.Nano()
	if q.matched {
		a := st.endpointAnswers.Fresh(key, q.lname, q.msg.Qtype, q.msg.Qclass, opts, now)
		if a != nil && a.HealthGen != st.Health.Gen() {
			return nil, now // built before an address went up or down
		}
		return a, now
	}
	if st.forwarded == nil || q.probedHost.On() {
		return nil, now
	}
	a := st.forwarded.Fresh(key, q.lname, q.msg.Qtype, q.msg.Qclass, opts, now)
	if a != nil {
		s.metrics.CacheHits.Inc()
	}
	return a, now
}
