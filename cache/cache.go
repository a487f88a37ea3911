// Package cache decorates the upstream forwarder with a bounded answer cache
// (TTL countdown, RFC 2308 negative caching, RFC 8767 serve-stale) and
// coalesces identical concurrent misses into one upstream query. Answers are
// kept packed (package wire), so that the server's fast path can answer a
// hit without unpacking anything.
package cache

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// StaleTTL is the TTL of records served stale (RFC 8767 recommends 30 s).
const StaleTTL = 30

// Exchanger is what the cache sits in front of: upstream.Forwarder.
type Exchanger interface {
	Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, string, error)
}

// Config bounds the cache.
type Config struct {
	MaxEntries     int           // 0 turns caching off (coalescing stays)
	MaxTTL         time.Duration // 0: no cap
	NegativeMaxTTL time.Duration
	ServeStale     time.Duration
	// StaleAnswerTimeout: with a stale answer at hand, how long to wait for
	// the upstreams before answering stale (RFC 8767 client response timer).
	StaleAnswerTimeout time.Duration
	// StaleRecheck: after a failed refresh, how long stale answers are
	// served at once without asking again (RFC 8767 failure recheck timer).
	StaleRecheck time.Duration
	// Clock is what entries are stored and judged by (nil: the real
	// time). Whatever answers through the cache (package endpoint) reads
	// the same clock from Clock.
	Clock *wire.Clock
}

// Cache answers from memory and asks the upstream on a miss.
type Cache struct {
	cfg    Config
	limits wire.Limits
	clock  *wire.Clock
	store  *store // nil when caching is off
	up     Exchanger
	group  *flights
	failed failures
	// rechecks: until when a stale answer is served without asking again,
	// after a failed refresh (RFC 8767 §5, failure recheck timer).
	rechecks *otter.Cache[uint64, int64]
	// lifetime bounds every fetch: one several queries wait for outlives
	// each of them, until Close.
	lifetime context.Context
	close    context.CancelFunc
	// OnLookup, when set, is told whether each lookup was a hit, miss or stale.
	OnLookup func(wire.Source)
}

// New returns a cache in front of up.
func New(cfg Config, up Exchanger) *Cache {
	c := &Cache{cfg: cfg, up: up, clock: cfg.Clock, failed: newFailures(),
		limits: wire.Limits{MaxTTL: cfg.MaxTTL, NegativeMaxTTL: cfg.NegativeMaxTTL}}
	if c.clock == nil {
		c.clock = wire.NewClock(nil)
	}
	c.lifetime, c.close = context.WithCancel(context.Background())
	c.group = newFlights(c.lifetime)
	if cfg.MaxEntries > 0 {
		c.store = newStore(cfg.MaxEntries, int64(cfg.ServeStale))
		c.rechecks = otter.Must(&otter.Options[uint64, int64]{MaximumSize: maxFailures})
	}
	return c
}

// Close cancels the fetches still running (at shutdown, once no query
// waits for them any more).
func (c *Cache) Close() { c.close() }

// Clock is what the cache judges answers by: every source answering
// through it judges its own answers by the same clock.
func (c *Cache) Clock() *wire.Clock { return c.clock }

// Len is the number of cached answers.
func (c *Cache) Len() int {
	if c.store == nil {
		return 0
	}
	return c.store.len()
}

// Fresh is the fast path's lookup: the answer to q still fresh now, counted
// as a hit, unpacked into e (whose buffer stays the cache's) and returned;
// or nil. It also gives the clock reading the answer stands at. It
// allocates nothing when q.LName is given.
func (c *Cache) Fresh(q *wire.Question, e *wire.Entry) (*wire.Entry, int64) {
	now := c.clock.Nano()
	if c.store == nil {
		return nil, now
	}
	key, err := q.Key()
	if err != nil || !c.store.fresh(key, q, now, e) {
		return nil, now
	}
	c.note(wire.FromCache)
	return e, now
}

// Resolve answers q from the cache, else from the upstream. The query sent
// upstream is in lower case with recursion desired, CD as asked and EDNS0
// (DO as asked); no client EDNS option is ever passed on. ctx bounds the
// caller's wait only: the fetch itself is shared, and bounded by the
// upstreams' timeouts and the cache's lifetime.
func (c *Cache) Resolve(ctx context.Context, q wire.Question) (wire.Result, error) {
	q.Name = strings.ToLower(dns.Fqdn(q.Dotted()))
	key, err := q.Key()
	if err != nil {
		return wire.Result{}, err
	}
	now := c.clock.Nano()
	var stale *wire.Entry
	var staleFrom string
	if c.store != nil {
		e := new(wire.Entry)
		if upstream, ok := c.store.get(key, &q, e); ok {
			if now < e.Expires() {
				c.note(wire.FromCache)
				return wire.Result{Entry: e, Source: wire.FromCache, Upstream: upstream, Now: now}, nil
			}
			if now < e.Expires()+int64(c.cfg.ServeStale) {
				stale, staleFrom = e, upstream
			}
		}
	}
	if stale != nil {
		if until, ok := c.rechecks.GetIfPresent(key); ok && now < until {
			return c.serveStale(stale, staleFrom, now)
		}
	}
	if stale == nil && c.failed.recent(key, groupKey(q), now) {
		return wire.Result{}, ErrRecentFailure
	}
	c.note(wire.FromUpstream)
	// The fetch is shared by every waiter, and finishes in the background
	// after a stale answer went out: it lives as long as the cache, not as
	// long as the first caller.
	fetch := func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				v, err = nil, fetchPanic{value: r, stack: debug.Stack()}
			}
		}()
		return c.fetch(c.lifetime, key, q)
	}
	ch := c.group.do(groupKey(q), fetch)
	var timeout <-chan time.Time
	if stale != nil && c.cfg.StaleAnswerTimeout > 0 {
		t := time.NewTimer(c.cfg.StaleAnswerTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch.done:
		if p, ok := ch.err.(fetchPanic); ok {
			panic(p) // the caller's, as if it had fetched itself
		}
		if ch.err != nil && stale != nil {
			return c.serveStale(stale, staleFrom, now)
		}
		return fetchedResult(ch.val, ch.err, ch.shared)
	case <-timeout:
		return c.serveStale(stale, staleFrom, now)
	case <-ctx.Done():
		return wire.Result{}, ctx.Err()
	}
}

// fetchPanic is a panic in a fetch, which runs on a worker of its own:
// it is raised again in each waiting caller, whose recovery handles it.
type fetchPanic struct {
	value any
	stack []byte
}

func (p fetchPanic) Error() string {
	return fmt.Sprintf("panic while fetching: %v\n%s", p.value, p.stack)
}

func fetchedResult(v any, err error, shared bool) (wire.Result, error) {
	if err != nil {
		return wire.Result{}, err
	}
	f := v.(fetched)
	return wire.Result{Entry: f.entry, Source: wire.FromUpstream, Upstream: f.upstream, Now: f.now}.WithMsg(f.msg, shared), nil
}

// serveStale answers with an expired entry, every TTL set to StaleTTL.
func (c *Cache) serveStale(a *wire.Entry, upstream string, now int64) (wire.Result, error) {
	m, err := a.Msg(now)
	if err != nil {
		return wire.Result{}, err
	}
	setTTLs(m, StaleTTL)
	e, err := wire.Build(m, wire.Aging{}, a.Opts(), now, now)
	if err != nil {
		return wire.Result{}, err
	}
	c.note(wire.FromStale)
	return wire.Result{Entry: &e, Source: wire.FromStale, Upstream: upstream, Now: now}.WithMsg(m, false), nil
}

type fetched struct {
	entry    *wire.Entry
	msg      *dns.Msg
	upstream string
	now      int64
}

func (c *Cache) fetch(ctx context.Context, key uint64, q wire.Question) (fetched, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Qtype)
	m.Question[0].Qclass = q.Qclass
	m.CheckingDisabled = q.Opts&wire.OptCD != 0
	m.SetEdns0(wire.MaxUDPSize, q.Opts&wire.OptDO != 0)
	resp, upstream, err := c.up.Exchange(ctx, m)
	now := c.clock.Nano()
	if err != nil {
		c.recheckLater(key, q, now)
		c.failed.note(key, groupKey(q), now, err)
		return fetched{}, err
	}
	c.failed.forget(key)
	scrub(resp, q.Name, q.Qtype)
	canonical(resp, q.Name)
	c.limits.Clamp(resp)
	life := c.limits.Lifetime(resp)
	e, err := wire.Build(resp, wire.Aging{}, q.Opts, now, now+int64(life))
	if err != nil {
		return fetched{}, err
	}
	if c.store != nil && life > 0 {
		c.store.set(key, &e, upstream, now)
		c.rechecks.Invalidate(key)
	}
	return fetched{entry: &e, msg: resp, upstream: upstream, now: now}, nil
}

// recheckLater marks the stale answer to q, if any, as not worth a refresh
// for StaleRecheck after this failure.
func (c *Cache) recheckLater(key uint64, q wire.Question, now int64) {
	if c.store == nil || c.cfg.StaleRecheck <= 0 {
		return
	}
	var e wire.Entry
	if _, ok := c.store.get(key, &q, &e); ok {
		c.rechecks.Set(key, now+int64(c.cfg.StaleRecheck))
	}
}

// canonical makes an upstream reply the form the cache keeps: the question
// and the owner names equal to it in lower case, no OPT, plain reply flags.
func canonical(m *dns.Msg, name string) {
	m.Question[0].Name = name
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if h := rr.Header(); strings.EqualFold(h.Name, name) {
				h.Name = name
			}
		}
	}
	m.Extra = wire.WithoutOPT(m.Extra)
	m.Authoritative, m.RecursionAvailable, m.Response = false, true, true
}

func setTTLs(m *dns.Msg, ttl uint32) {
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if rr.Header().Rrtype != dns.TypeOPT {
				rr.Header().Ttl = ttl
			}
		}
	}
}

// Probe asks the upstreams directly, bypassing the cache and coalescing:
// for queries whose answers must not be stored, such as loop probes.
func (c *Cache) Probe(ctx context.Context, name string, qtype uint16) error {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	_, _, err := c.up.Exchange(ctx, q)
	return err
}

func (c *Cache) note(s wire.Source) {
	if c.OnLookup != nil {
		c.OnLookup(s)
	}
}

func groupKey(q wire.Question) string {
	return q.Name + "/" + strconv.Itoa(int(q.Qtype)) + "/" + strconv.Itoa(int(q.Qclass)) + "/" + strconv.Itoa(int(q.Opts))
}
