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

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// Resolver resolves names through the cache and the upstreams.
type Resolver interface {
	Resolve(ctx context.Context, q cache.Question) (cache.Result, error)
}

// Question is one admitted query as an endpoint answers it. Its key is
// computed once, by Fresh or Answer, whichever comes first.
type Question struct {
	Name   string // lower case, dotted; the full path's (Fresh needs LName only)
	LName  []byte // the same in wire form
	Qtype  uint16
	Qclass uint16
	Opts   wire.Opts // DO and CD as asked
	RD     bool
	EDNS   bool // the query carried an OPT
	// Site is the client's site (1-based; 0: none): answers differ by site,
	// so they are kept apart.
	Site  uint8
	key   uint64
	keyed bool
}

func (q *Question) keyOf() uint64 {
	if !q.keyed {
		q.key, q.keyed = wire.Key(q.LName, q.Qtype, q.Qclass, q.Opts)^(uint64(q.Site)*0x9e3779b97f4a7c15), true
	}
	return q.key
}

// Result is what the full path produced: a packed answer rendered at Now,
// or an rcode when there is none (SERVFAIL).
type Result struct {
	Entry    *wire.Entry
	Now      int64
	Rcode    int
	Upstream string
	// Forwarded: the name was answered as if not listed (on_unresolved or
	// on_unhealthy: public).
	Forwarded bool
}

func failed(rcode int) Result { return Result{Rcode: rcode} }

// maxAnswers bounds the packed answers ("*" lists every bucket).
const maxAnswers = 100_000

// Answers synthesizes and keeps the endpoint answers of one configuration:
// a reload builds a new one, so that old decisions are never served.
type Answers struct {
	resolver Resolver
	health   *health.Monitor // nil: no endpoint is probed
	clock    *wire.Clock     // the cache's: target TTLs count down by it
	limits   wire.Limits
	log      *slog.Logger
	packed   *otter.Cache[uint64, *entry]
}

// entry is a packed endpoint answer and the health generation it was built
// under: after any address goes up or down it is not served.
type entry struct {
	wire.Entry
	healthGen uint64
	site      uint8
}

// New returns the endpoint answers for one configuration, resolving targets
// with resolver and judging entries by clock (the cache's).
func New(resolver Resolver, monitor *health.Monitor, clock *wire.Clock, limits wire.Limits, log *slog.Logger) *Answers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Answers{resolver: resolver, health: monitor, clock: clock, limits: limits, log: log,
		packed: otter.Must(&otter.Options[uint64, *entry]{MaximumSize: maxAnswers})}
}

// Fresh is the fast path: the answer packed for this question, still fresh
// and built under the current health, or nil; and the clock reading it is
// judged at. It allocates nothing.
func (a *Answers) Fresh(q *Question) (*wire.Entry, int64) {
	now := a.clock.Nano()
	e, ok := a.packed.GetIfPresent(q.keyOf())
	if !ok || e.site != q.Site || !e.FreshFor(q.LName, q.Qtype, q.Qclass, q.Opts, now) || e.healthGen != a.health.Gen() {
		return nil, now
	}
	return &e.Entry, now
}

// Answer synthesizes the answer to q, which m matched, and keeps it packed
// for Fresh while it is fresh. On on_unresolved or on_unhealthy: public, the
// name is forwarded as if not listed, with TTLs bounded by health.
func (a *Answers) Answer(ctx context.Context, q Question, m zones.Match) Result {
	gen := a.health.Gen() // read first: an answer is never newer than its generation
	view := a.health.For(m.Index)
	if view.NoneUp() {
		switch m.Endpoint.OnUnhealthy {
		case config.UnhealthyPublic:
			return a.public(ctx, q, m.Endpoint) // fail open
		case config.UnhealthyServfail:
			return failed(dns.RcodeServerFailure) // fail closed
		}
		view = health.View{} // keep: every address, as without health checks
	}
	m = a.inZone(ctx, q, m, view)
	req := q.request()
	var target *targetRecords
	var upstream string
	// Only answers from fresh data (or needing none) are kept.
	keep := true
	if name, qtype, need := lookup(req, m); need {
		res, err := a.resolver.Resolve(ctx, cache.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET, Opts: q.Opts})
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
			keep = res.Source != cache.FromStale && msg.Rcode == dns.RcodeSuccess
		}
	}
	match := m
	match.Endpoint = healthyEndpoint(m.Endpoint, view)
	r := synthesize(req, match, target)
	if r.Forward {
		return a.public(ctx, q, m.Endpoint)
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
		return failed(dns.RcodeServerFailure)
	}
	if life > 0 {
		a.packed.Set(q.keyOf(), &entry{Entry: e, healthGen: gen, site: q.Site})
	}
	return Result{Entry: &e, Now: now, Upstream: upstream}
}

// public forwards a listed name as if it were not listed (failing open),
// its TTLs bounded by health so that downstream caches come back quickly.
func (a *Answers) public(ctx context.Context, q Question, e *config.Endpoint) Result {
	r := a.forward(ctx, q, health.View{}, healthTTL(e))
	r.Forwarded = true
	return r
}

// Host answers e's own hostname (endpoint index i), which a resolver chasing
// the CNAME asks for: its healthy addresses only (with none up: every
// address, or SERVFAIL under on_unhealthy: servfail), with TTLs bounded by
// health. Without health checks it is an ordinary forwarded answer.
func (a *Answers) Host(ctx context.Context, q Question, e *config.Endpoint, i int) Result {
	view := a.health.For(i)
	if !view.On() {
		return a.forward(ctx, q, view, 0)
	}
	if view.NoneUp() {
		if e.OnUnhealthy == config.UnhealthyServfail {
			return failed(dns.RcodeServerFailure) // every address down: none may be given out
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
func (a *Answers) forward(ctx context.Context, q Question, view health.View, ttlCap uint32) Result {
	res, err := a.resolver.Resolve(ctx, cache.Question{Name: q.Name, LName: q.LName, Qtype: q.Qtype, Qclass: q.Qclass, Opts: q.Opts})
	if err != nil {
		a.log.Debug("forwarding failed", "name", q.Name, "error", err)
		return failed(dns.RcodeServerFailure)
	}
	if ttlCap == 0 && !view.On() {
		return Result{Entry: res.Entry, Now: res.Now(), Upstream: res.Upstream}
	}
	m := res.Msg()
	m.Answer = withoutDown(m.Answer, view)
	now := a.clock.Nano()
	e, err := wire.Build(m, wire.Aging{Cap: ttlCap}, q.Opts, now, now)
	if err != nil {
		return Result{Entry: res.Entry, Now: res.Now(), Upstream: res.Upstream}
	}
	return Result{Entry: &e, Now: now, Upstream: res.Upstream}
}

// request is the question as the synthesis wants it: in lower case (the
// packed answer is respelled per client), RD, CD and DO as asked.
func (q Question) request() *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: q.Name, Qtype: q.Qtype, Qclass: q.Qclass}}
	m.RecursionDesired = q.RD
	m.CheckingDisabled = q.Opts&wire.OptCD != 0
	if q.EDNS {
		m.SetEdns0(wire.MaxUDPSize, q.Opts&wire.OptDO != 0)
	}
	return m
}

// Flush drops the packed answers for name ("" for all); the next query
// builds them again. It returns how many went.
func (a *Answers) Flush(name string) (int, error) { return cache.FlushPacked(a.packed, name) }

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
