// Package cache decorates the upstream forwarder with a bounded answer cache
// (TTL countdown, RFC 2308 negative caching, RFC 8767 serve-stale) and
// coalesces identical concurrent misses into one upstream query. Answers are
// kept packed (package wire), so that the server's fast path can answer a
// hit without unpacking anything.
package cache

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/s3dns/s3dns/wire"
)

// StaleTTL is the TTL of records served stale (RFC 8767 recommends 30 s).
const StaleTTL = 30

// Source says where an answer came from.
type Source int

const (
	FromUpstream Source = iota
	FromCache
	FromStale
)

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
	// Clock is what entries are stored and judged by; the server's
	// endpoint answers share it (nil: a clock of the cache's own).
	Clock *wire.Clock
}

// Question is what the cache is asked: a name in lower case with a final
// dot, and the query bits that select a different answer. The cache keys it
// once, however often it is asked (Fresh, then Resolve on a miss).
type Question struct {
	Name string
	// LName is the name in lower-case wire form, when at hand: the fast
	// path gives it instead of Name.
	LName  []byte
	Qtype  uint16
	Qclass uint16
	Opts   wire.Opts
	key    uint64
	keyed  bool
}

// keyOf is q's cache key, computed on first use.
func (q *Question) keyOf() (uint64, error) {
	if q.keyed {
		return q.key, nil
	}
	if q.LName == nil {
		l, err := wire.PackName(q.Name)
		if err != nil {
			return 0, err
		}
		q.LName = l
	}
	q.key, q.keyed = wire.Key(q.LName, q.Qtype, q.Qclass, q.Opts), true
	return q.key, nil
}

// Cache answers from memory and asks the upstream on a miss.
type Cache struct {
	cfg    Config
	limits wire.Limits
	clock  *wire.Clock
	store  *store // nil when caching is off
	up     Exchanger
	group  singleflight.Group
	failed failures
	// OnLookup, when set, is told whether each lookup was a hit, miss or stale.
	OnLookup func(Source)
}

// New returns a cache in front of up.
func New(cfg Config, up Exchanger) *Cache {
	c := &Cache{cfg: cfg, up: up, clock: cfg.Clock, failed: newFailures(),
		limits: wire.Limits{MaxTTL: cfg.MaxTTL, NegativeMaxTTL: cfg.NegativeMaxTTL}}
	if c.clock == nil {
		c.clock = wire.NewClock(nil)
	}
	if cfg.MaxEntries > 0 {
		c.store = newStore(cfg.MaxEntries)
	}
	return c
}

// Len is the number of cached answers.
func (c *Cache) Len() int {
	if c.store == nil {
		return 0
	}
	return c.store.len()
}

// Fresh is the fast path's lookup: the answer to q still fresh now, counted
// as a hit, or nil; and the clock reading it stands at. It allocates
// nothing when q.LName is given.
func (c *Cache) Fresh(q *Question) (*wire.Entry, int64) {
	now := c.clock.Nano()
	if c.store == nil {
		return nil, now
	}
	key, err := q.keyOf()
	if err != nil {
		return nil, now
	}
	a := c.store.fresh(key, q.LName, q.Qtype, q.Qclass, q.Opts, now)
	if a == nil {
		return nil, now
	}
	c.note(FromCache)
	return &a.Entry, now
}

// Result is an answer with its provenance.
type Result struct {
	// Entry is the packed answer as it stands now; shared, never changed.
	Entry    *wire.Entry
	Source   Source
	Upstream string // the upstream that gave it
	now      int64
	msg      *dns.Msg // the unpacked answer when at hand
	shared   bool     // msg is also another caller's
}

// Now is the clock reading the entry stands at: render it there.
func (r Result) Now() int64 { return r.now }

// Msg is the answer unpacked, the caller's own.
func (r Result) Msg() *dns.Msg {
	switch {
	case r.msg != nil && r.shared:
		return r.msg.Copy()
	case r.msg != nil:
		return r.msg
	}
	m, err := r.Entry.Msg(r.now)
	if err != nil {
		return new(dns.Msg) // cannot happen: the entry was packed from a valid message
	}
	return m
}

// Resolve answers q from the cache, else from the upstream. The query sent
// upstream is in lower case with recursion desired, CD as asked and EDNS0
// (DO as asked); no client EDNS option is ever passed on.
func (c *Cache) Resolve(ctx context.Context, q Question) (Result, error) {
	if q.Name == "" {
		q.Name = wire.Presentation(q.LName)
	}
	q.Name = strings.ToLower(dns.Fqdn(q.Name))
	key, err := q.keyOf()
	if err != nil {
		return Result{}, err
	}
	now := c.clock.Nano()
	var stale *answer
	if c.store != nil {
		if a := c.store.get(key, q.LName, q.Qtype, q.Qclass, q.Opts); a != nil {
			if now < a.Expires() {
				c.note(FromCache)
				return Result{Entry: &a.Entry, Source: FromCache, Upstream: a.upstream, now: now}, nil
			}
			if now < a.Expires()+int64(c.cfg.ServeStale) {
				stale = a
			}
		}
	}
	if stale != nil && now < stale.recheckAt.Load() {
		return c.serveStale(stale, now)
	}
	if stale == nil && c.failed.recent(key, groupKey(q), now) {
		return Result{}, ErrRecentFailure
	}
	c.note(FromUpstream)
	// The fetch is shared by every waiter, and finishes in the background
	// after a stale answer went out: it lives as long as the server, not as
	// long as the first caller.
	shared := sharedContext(ctx)
	fetch := func() (any, error) { return c.fetch(shared, key, q) }
	if stale == nil {
		v, err, shared := c.group.Do(groupKey(q), fetch)
		return fetchedResult(v, err, shared)
	}
	ch := c.group.DoChan(groupKey(q), fetch)
	var timeout <-chan time.Time
	if c.cfg.StaleAnswerTimeout > 0 {
		t := time.NewTimer(c.cfg.StaleAnswerTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return c.serveStale(stale, now)
		}
		return fetchedResult(r.Val, nil, r.Shared)
	case <-timeout:
		return c.serveStale(stale, now)
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func fetchedResult(v any, err error, shared bool) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	f := v.(fetched)
	return Result{Entry: f.entry, Source: FromUpstream, Upstream: f.upstream, now: f.now, msg: f.msg, shared: shared}, nil
}

type lifetimeKey struct{}

// WithFetchLifetime says how long fetches that ctx's caller shares with
// others (a fetch several queries wait for) may run: as long as lifetime
// (the server's), whatever ctx's own deadline, which is only its caller's.
func WithFetchLifetime(ctx, lifetime context.Context) context.Context {
	return context.WithValue(ctx, lifetimeKey{}, lifetime)
}

func sharedContext(ctx context.Context) context.Context {
	if l, ok := ctx.Value(lifetimeKey{}).(context.Context); ok {
		return l
	}
	return context.WithoutCancel(ctx)
}

// serveStale answers with an expired entry, every TTL set to StaleTTL.
func (c *Cache) serveStale(a *answer, now int64) (Result, error) {
	m, err := a.Msg(now)
	if err != nil {
		return Result{}, err
	}
	setTTLs(m, StaleTTL)
	e, err := wire.Build(m, wire.Aging{}, a.Opts(), now, now)
	if err != nil {
		return Result{}, err
	}
	c.note(FromStale)
	return Result{Entry: &e, Source: FromStale, Upstream: a.upstream, now: now, msg: m}, nil
}

type fetched struct {
	entry    *wire.Entry
	msg      *dns.Msg
	upstream string
	now      int64
}

func (c *Cache) fetch(ctx context.Context, key uint64, q Question) (fetched, error) {
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
		c.store.set(key, &answer{Entry: e, upstream: upstream})
	}
	return fetched{entry: &e, msg: resp, upstream: upstream, now: now}, nil
}

// recheckLater marks the stale answer to q, if any, as not worth a refresh
// for StaleRecheck after this failure.
func (c *Cache) recheckLater(key uint64, q Question, now int64) {
	if c.store == nil || c.cfg.StaleRecheck <= 0 {
		return
	}
	if a := c.store.get(key, q.LName, q.Qtype, q.Qclass, q.Opts); a != nil {
		a.recheckAt.Store(now + int64(c.cfg.StaleRecheck))
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

func (c *Cache) note(s Source) {
	if c.OnLookup != nil {
		c.OnLookup(s)
	}
}

func groupKey(q Question) string {
	return q.Name + "/" + strconv.Itoa(int(q.Qtype)) + "/" + strconv.Itoa(int(q.Qclass)) + "/" + strconv.Itoa(int(q.Opts))
}
