package dnsserver

import (
	"context"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// answer is what the full path produced: a packed answer, or an rcode
// when there is none (SERVFAIL).
type answer struct {
	entry    *wire.Entry
	now      int64 // the clock reading the entry is rendered at
	rcode    int
	upstream string
}

func failed(rcode int) answer { return answer{rcode: rcode} }

// resolve is step 4, the full path, for an admitted query whose answer was
// not packed yet.
func (s *Server) resolve(ctx context.Context, st *State, q *query) answer {
	if s.loop.seen(q.name) {
		// Our own probe came back: answer at once so that the loop ends here.
		s.log.Debug("loop probe came back", "client", q.client.String(), "name", q.name)
		return failed(rcodeServfail)
	}
	if q.matched {
		if a, ok := s.endpointAnswer(ctx, st, q); ok {
			return a
		}
		q.action = metrics.ActionForward // on_unresolved or on_unhealthy: public
	}
	var ttlCap uint32
	if q.matched {
		// Failing open with health checks on: the public answer's TTLs are
		// short enough for downstream caches to come back quickly.
		ttlCap = healthTTL(q.match.Endpoint)
	}
	v := q.probedHost
	if v.On() {
		if v.NoneUp() && q.ownHost.OnUnhealthy == config.UnhealthyServfail {
			return failed(rcodeServfail) // every address down: none may be given out
		}
		ttlCap = healthTTL(q.ownHost)
	}
	res, err := st.Resolver.Resolve(ctx, q.question())
	if err != nil {
		s.log.Debug("forwarding failed", "name", q.name, "error", err)
		return failed(rcodeServfail)
	}
	now := st.clock.Nano()
	if ttlCap == 0 {
		return answer{entry: res.Entry, now: now, upstream: res.Upstream}
	}
	m := res.Msg()
	if v.On() && !v.NoneUp() {
		// A resolver chasing the endpoint's hostname gets its healthy
		// addresses only (with none up: every address, as without health).
		m.Answer = withoutDown(m.Answer, v)
	}
	e, err := wire.Build(m, wire.Aging{Cap: ttlCap}, q.msg.Opts(), now, now)
	if err != nil {
		return answer{entry: res.Entry, now: now, upstream: res.Upstream}
	}
	return answer{entry: &e, now: now, upstream: res.Upstream}
}

// healthTTL is the longest TTL the addresses of a probed endpoint are given
// out with: interval × fall, the time health takes to notice a change, so
// that downstream caches follow it as quickly. 0 without health checks.
func healthTTL(e *config.Endpoint) uint32 {
	if e == nil || e.Health == nil {
		return 0
	}
	return max(uint32(e.Health.Interval*time.Duration(e.Health.Fall)/time.Second), 1)
}

// question is what the cache is asked for the query's own name.
func (q *query) question() cache.Question {
	return cache.Question{Name: q.name, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass, Opts: q.msg.Opts()}
}

// endpointAnswer synthesizes a matched name's answer and keeps it packed
// for the fast path while it is fresh; ok is false when the endpoint says
// to forward the name as if it were not listed.
func (s *Server) endpointAnswer(ctx context.Context, st *State, q *query) (answer, bool) {
	gen := st.Health.Gen() // read first: an answer is never newer than its generation
	view := st.Health.For(q.match.Index)
	if view.NoneUp() {
		switch q.match.Endpoint.OnUnhealthy {
		case config.UnhealthyPublic:
			return answer{}, false // fail open: forwarded as if not listed
		case config.UnhealthyServfail:
			return failed(rcodeServfail), true // fail closed
		}
		view = health.View{} // keep: every address, as without health checks
	}
	req := q.request()
	var target *zones.Target
	var upstream string
	// Only answers from fresh data (or needing none) are kept.
	keep := true
	if name, qtype, need := zones.Lookup(req, q.match); need {
		res, err := st.Resolver.Resolve(ctx, cache.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET, Opts: q.msg.Opts()})
		switch {
		case err != nil:
			s.log.Debug("endpoint hostname unresolved", "hostname", name, "error", err)
			keep = false
		case res.Entry.Rcode() == dns.RcodeServerFailure || res.Entry.Rcode() == dns.RcodeRefused:
			keep = false
		default:
			m := res.Msg()
			target = &zones.Target{Rcode: m.Rcode, Answer: withoutDown(m.Answer, view), Ns: m.Ns}
			upstream = res.Upstream
			keep = res.Source != cache.FromStale && m.Rcode == dns.RcodeSuccess
		}
	}
	match := q.match
	match.Endpoint = healthyEndpoint(match.Endpoint, view)
	r := zones.Answer(req, match, target)
	if r.Forward {
		return answer{}, false
	}
	resp, aging := r.Msg, r.Aging
	st.limits.Clamp(resp)
	if hc := healthTTL(q.match.Endpoint); hc > 0 {
		aging = capAddresses(resp, aging, hc)
	}
	var life time.Duration
	if keep && resp.Rcode == dns.RcodeSuccess {
		life = st.limits.Lifetime(resp)
	}
	now := st.clock.Nano()
	e, err := wire.Build(resp, aging, q.msg.Opts(), now, now+int64(life))
	if err != nil {
		s.log.Debug("packing an endpoint answer failed", "name", q.name, "error", err)
		return failed(rcodeServfail), true
	}
	if life > 0 {
		key := wire.Key(q.lname, q.msg.Qtype, q.msg.Qclass, q.msg.Opts())
		st.endpointAnswers.Set(key, &cache.Answer{Entry: e, Upstream: upstream, HealthGen: gen})
	}
	return answer{entry: &e, now: now, upstream: upstream}, true
}

// capAddresses bounds the TTLs of an endpoint answer's addresses at hc: the
// synthesized ones now, those counting down with the target as they age.
func capAddresses(resp *dns.Msg, aging wire.Aging, hc uint32) wire.Aging {
	for _, rr := range resp.Answer {
		if h := rr.Header(); (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) && aging.Fixed != nil && aging.Fixed(rr) {
			h.Ttl = min(h.Ttl, hc)
		}
	}
	if aging.Cap == 0 || aging.Cap > hc {
		aging.Cap = hc
	}
	return aging
}

// request is the query as zones wants it: the question in lower case (the
// packed answer is respelled per client), RD, CD and DO as asked.
func (q *query) request() *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: q.name, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass}}
	m.RecursionDesired = q.msg.RD()
	m.CheckingDisabled = q.msg.Opts()&wire.OptCD != 0
	if q.msg.HasOPT {
		m.SetEdns0(wire.MaxUDPSize, q.msg.DO)
	}
	return m
}
