package dnsserver

import (
	"context"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/endpoint"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
)

// answer is what the full path produced: a packed answer rendered at now,
// or an rcode when there is none (SERVFAIL).
type answer struct {
	entry    *wire.Entry
	now      int64
	rcode    int
	upstream string
}

func failed(rcode int) answer { return answer{rcode: rcode} }

func fromEndpoint(r endpoint.Result) answer {
	return answer{entry: r.Entry, now: r.Now, rcode: r.Rcode, upstream: r.Upstream}
}

// resolve is step 4, the full path, for an admitted query whose answer was
// not packed yet: a dispatch on the decision to the answer source that
// owns it.
func (s *Server) resolve(st *State, q *query) answer {
	if s.loop.seen(q.name) {
		// Our own probe came back: answer at once so that the loop ends here.
		s.log.Debug("loop probe came back", "client", q.client.String(), "name", q.name)
		return failed(rcodeServfail)
	}
	switch {
	case q.matched:
		ctx, cancel := s.budgeted(st)
		defer cancel()
		r := st.Endpoints.Answer(ctx, q.ep, q.match)
		if r.Forwarded {
			q.action = metrics.ActionForward // on_unresolved or on_unhealthy: public
		}
		return fromEndpoint(r)
	case q.ownHost >= 0 && st.Endpoints.Probed(q.ownHost):
		ctx, cancel := s.budgeted(st)
		defer cancel()
		return fromEndpoint(st.Endpoints.Host(ctx, q.hostQuestion(), &st.Config.Endpoints[q.ownHost], q.ownHost))
	}
	// One fetch, bounded by the upstreams' own timeouts: no deadline (and
	// no timer) of the query's own is needed.
	res, err := st.Cache.Resolve(s.fetchCtx, q.ask)
	if err != nil {
		s.log.Debug("forwarding failed", "name", q.name, "error", err)
		return failed(rcodeServfail)
	}
	return answer{entry: res.Entry, now: res.Now(), upstream: res.Upstream}
}

// budgeted is the context of a query that several fetches answer (an
// endpoint's name and its fallback): its own deadline bounds them together,
// while the fetches it shares with other queries live as long as the server.
func (s *Server) budgeted(st *State) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(s.ctx, st.budget)
	return cache.WithFetchLifetime(ctx, s.ctx), cancel
}

// hostQuestion is the query for an endpoint's own hostname as package
// endpoint answers it (forwarded: the cache keys it).
func (q *query) hostQuestion() endpoint.Question {
	return endpoint.Question{Name: q.name, LName: q.lname, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass,
		Opts: q.msg.Opts(), RD: q.msg.RD(), EDNS: q.msg.HasOPT}
}
