package dnsserver

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// keepEndpointAnswer packs an endpoint answer for the fast path. It stays
// fresh as long as the shortest of the endpoint's TTL and the target
// records' remaining TTLs (for a target without records of the type, its
// SOA's negative TTL; without an SOA it is not kept); the CNAME keeps the
// endpoint's TTL, the other records count down.
func (st *State) keepEndpointAnswer(req, resp *dns.Msg, m zones.Match, do bool, target *zones.Target) {
	q := req.Question[0]
	lname, err := wire.PackName(q.Name)
	if err != nil {
		return
	}
	ttl := m.Endpoint.TTL
	if target != nil {
		limited := false
		for _, rr := range target.Answer {
			ttl, limited = min(ttl, time.Duration(rr.Header().Ttl)*time.Second), true
		}
		for _, rr := range target.Ns {
			if soa, ok := rr.(*dns.SOA); ok && len(target.Answer) == 0 {
				ttl, limited = min(ttl, time.Duration(min(soa.Hdr.Ttl, soa.Minttl))*time.Second), true
			}
		}
		if !limited {
			return
		}
	}
	if ttl <= 0 {
		return
	}
	c := resp.Copy()
	lower := strings.ToLower(q.Name)
	c.Question[0].Name = lower
	for _, s := range [][]dns.RR{c.Answer, c.Ns, c.Extra} {
		for _, rr := range s {
			if h := rr.Header(); strings.EqualFold(h.Name, lower) {
				h.Name = lower
			}
		}
	}
	fixed := 0
	if len(c.Answer) > 0 && c.Answer[0].Header().Rrtype == dns.TypeCNAME && c.Answer[0].Header().Name == lower {
		fixed = 1
	}
	now := st.nowNano()
	e, err := wire.Build(c, fixed, now, now+int64(ttl))
	if err != nil {
		return
	}
	e.DO = do
	st.endpointAnswers.Set(wire.Key(lname, q.Qtype, q.Qclass, do), &e)
}

// endpointHit returns a fresh packed endpoint answer, or nil.
func (st *State) endpointHit(key uint64, lname []byte, q *wire.Query, now int64) *wire.Entry {
	e, ok := st.endpointAnswers.GetIfPresent(key)
	if !ok || !e.FreshFor(lname, q.Qtype, q.Qclass, q.DO, now) {
		return nil
	}
	return e
}
