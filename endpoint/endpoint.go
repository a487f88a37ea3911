// Package endpoint answers what the product is for: the names an interface
// endpoint serves, at both speeds. Fresh finds an answer already packed (the
// fast path); Answer synthesizes one from the endpoint's hostname as the
// cache resolves it, filtered by health, and keeps it packed; Host answers
// the endpoint's own hostname with its healthy addresses.
package endpoint

import (
	"context"
	"log/slog"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// Resolver resolves names through the cache and the upstreams (package
// cache). Endpoint answers are judged by the resolver's own clock, so that
// an answer and the target records it was built from age together.
type Resolver interface {
	Resolve(ctx context.Context, q wire.Question) (wire.Result, error)
	Clock() *wire.Clock
}

// maxAnswers bounds the packed answers ("*" lists every bucket).
const maxAnswers = 100_000

// Answers synthesizes and keeps the endpoint answers of one configuration:
// a reload builds a new one, so that old decisions are never served.
type Answers struct {
	endpoints []model.Endpoint // the configuration's, for fallbacks
	resolver  Resolver
	health    *health.Monitor // nil: no endpoint is probed
	clock     *wire.Clock     // the resolver's: target TTLs count down by it
	limits    wire.Limits
	log       *slog.Logger
	packed    *otter.Cache[uint64, *entry]
}

// entry is a packed endpoint answer and the health generation it was built
// under: after any address goes up or down it is not served.
type entry struct {
	wire.Entry
	healthGen uint64
	site      uint8
	by        int // the endpoint that answered: the one matched, or its fallback
}

// New returns the endpoint answers for one configuration's endpoints,
// resolving targets with resolver and judging entries by its clock.
func New(endpoints []model.Endpoint, resolver Resolver, monitor *health.Monitor, limits wire.Limits, log *slog.Logger) *Answers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Answers{endpoints: endpoints, resolver: resolver, health: monitor, clock: resolver.Clock(), limits: limits, log: log,
		packed: otter.Must(&otter.Options[uint64, *entry]{MaximumSize: maxAnswers})}
}

// Fresh is the fast path: the answer packed for this question, still fresh
// and built under the current health, or nil; the clock reading it is
// judged at; and the endpoint that answered (its index). It allocates
// nothing.
func (a *Answers) Fresh(q *wire.Question) (*wire.Entry, int64, int) {
	now := a.clock.Nano()
	key, err := q.SiteKey()
	if err != nil {
		return nil, now, -1
	}
	e, ok := a.packed.GetIfPresent(key)
	if !ok || e.site != q.Site || !e.FreshFor(q.LName, q.Qtype, q.Qclass, q.Opts, now) || e.healthGen != a.health.Gen() {
		return nil, now, -1
	}
	return &e.Entry, now, e.by
}

// Answer synthesizes the answer to q, which m matched, and keeps it packed
// for Fresh while it is fresh; by is the endpoint that answered (m's, or
// its fallback's). On on_unresolved or on_unhealthy: public, the name is
// forwarded as if not listed, with TTLs bounded by health.
func (a *Answers) Answer(ctx context.Context, q *wire.Question, m zones.Match) (res wire.Result, by int) {
	gen := a.health.Gen() // read first: an answer is never newer than its generation
	if i, fallback := a.health.Answering(m.Index); fallback && i < len(a.endpoints) {
		m = a.fallback(m, i)
	}
	view := a.health.For(m.Index)
	if view.NoneUp() {
		switch m.Endpoint.OnUnhealthy {
		case model.UnhealthyPublic:
			return a.public(ctx, q, m.Endpoint), m.Index // fail open
		case model.UnhealthyServfail:
			return wire.Failed(dns.RcodeServerFailure), m.Index // fail closed
		}
		view = health.View{} // keep: every address, as without health checks
	}
	m = a.inZone(ctx, q, m, view)
	req := q.Msg()
	var target *targetRecords
	var upstream string
	// Only answers from fresh data (or needing none) are kept.
	keep := true
	if name, qtype, need := lookup(req, m); need {
		res, err := a.resolver.Resolve(ctx, wire.NewQuestion(name, qtype, q.Opts))
		switch {
		case err != nil:
			a.log.Debug("endpoint hostname unresolved", "hostname", name, "error", err)
			keep = false
		case res.Entry.Rcode() == dns.RcodeServerFailure || res.Entry.Rcode() == dns.RcodeRefused:
			keep = false
		default:
			msg := res.Msg()
			target = &targetRecords{Rcode: msg.Rcode, Answer: withoutDown(msg.Answer, view), Ns: msg.Ns}
			upstream = res.Upstream
			keep = res.Source != wire.FromStale && msg.Rcode == dns.RcodeSuccess
		}
	}
	match := m
	match.Endpoint = healthyEndpoint(m.Endpoint, view)
	r := synthesize(req, match, target)
	if r.Forward {
		return a.public(ctx, q, m.Endpoint), m.Index
	}
	resp, aging := r.Msg, r.Aging
	a.limits.Clamp(resp)
	if hc := healthTTL(m.Endpoint); hc > 0 {
		aging = capAddresses(resp, aging, hc)
	}
	var life time.Duration
	if keep && resp.Rcode == dns.RcodeSuccess {
		life = a.limits.Lifetime(resp)
	}
	now := a.clock.Nano()
	e, err := wire.Build(resp, aging, q.Opts, now, now+int64(life))
	if err != nil {
		a.log.Debug("packing an endpoint answer failed", "name", q.Name, "error", err)
		return wire.Failed(dns.RcodeServerFailure), m.Index
	}
	if key, err := q.SiteKey(); life > 0 && err == nil {
		a.packed.Set(key, &entry{Entry: e, healthGen: gen, site: q.Site, by: m.Index})
	}
	return wire.Result{Entry: &e, Now: now, Upstream: upstream}, m.Index
}

// fallback is m answered by endpoint i, a fallback of m's endpoint,
// keeping the site's zone.
func (a *Answers) fallback(m zones.Match, i int) zones.Match {
	fb := a.endpoints[i]
	fb.Zone = m.Endpoint.Zone
	a.log.Debug("every address down: a fallback endpoint answers", "endpoint", m.Endpoint.Name, "fallback", fb.Name)
	m.Rule = m.Rule + " (fallback for " + m.Endpoint.Name + ", every address of which is down)"
	m.Endpoint, m.Index = &fb, i
	return m
}

// public forwards a listed name as if it were not listed (failing open),
// its TTLs bounded by health so that downstream caches come back quickly.
func (a *Answers) public(ctx context.Context, q *wire.Question, e *model.Endpoint) wire.Result {
	r := a.forward(ctx, q, health.View{}, healthTTL(e))
	r.Forwarded = true
	return r
}

// Host answers e's own hostname (endpoint index i), which a resolver chasing
// the CNAME asks for: its healthy addresses only (with none up: every
// address, or SERVFAIL under on_unhealthy: servfail), with TTLs bounded by
// health. Without health checks it is an ordinary forwarded answer.
func (a *Answers) Host(ctx context.Context, q *wire.Question, e *model.Endpoint, i int) wire.Result {
	view := a.health.For(i)
	if !view.On() {
		return a.forward(ctx, q, view, 0)
	}
	if view.NoneUp() {
		if e.OnUnhealthy == model.UnhealthyServfail {
			return wire.Failed(dns.RcodeServerFailure) // every address down: none may be given out
		}
		view = health.View{}
	}
	return a.forward(ctx, q, view, healthTTL(e))
}

// Probed reports whether endpoint i's addresses are health-checked: then
// answers for its hostname are filtered, and never served from the cache
// as they are.
func (a *Answers) Probed(i int) bool { return a.health.For(i).On() }

// forward resolves q itself through the cache, leaving out the addresses
// view says are down and bounding every TTL at ttlCap (0: as cached).
func (a *Answers) forward(ctx context.Context, q *wire.Question, view health.View, ttlCap uint32) wire.Result {
	res, err := a.resolver.Resolve(ctx, *q)
	if err != nil {
		a.log.Debug("forwarding failed", "name", q.Name, "error", err)
		return wire.Failed(dns.RcodeServerFailure)
	}
	if ttlCap == 0 && !view.On() {
		return res
	}
	m := res.Msg()
	m.Answer = withoutDown(m.Answer, view)
	now := a.clock.Nano()
	e, err := wire.Build(m, wire.Aging{Cap: ttlCap}, q.Opts, now, now)
	if err != nil {
		return res
	}
	return wire.Result{Entry: &e, Now: now, Upstream: res.Upstream}
}

// Flush drops the packed answers for name ("" for all); the next query
// builds them again. It returns how many went.
func (a *Answers) Flush(name string) (int, error) {
	is, err := wire.IsNamed(name)
	if err != nil {
		return 0, err
	}
	n := 0
	for key, e := range a.packed.All() {
		if is(&e.Entry) {
			if _, gone := a.packed.Invalidate(key); gone {
				n++
			}
		}
	}
	return n, nil
}

// Dump describes the packed endpoint answers; siteName names an entry's
// site from its id ("" for the top-level policy).
func (a *Answers) Dump(siteName func(uint8) string) []wire.Held {
	now := a.clock.Nano()
	var out []wire.Held
	for _, e := range a.packed.All() {
		h := e.Describe(now)
		h.From, h.Site = "endpoint", siteName(e.site)
		out = append(out, h)
	}
	return out
}
