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

	"github.com/maypok86/otter/v2"
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
	MaxEntries     int // 0 turns caching off (coalescing stays)
	MaxTTL         time.Duration
	NegativeMaxTTL time.Duration
	ServeStale     time.Duration
	Now            func() time.Time // nil: time.Now
}

// entry is a cached answer and the upstream that gave it.
type entry struct {
	wire.Entry
	upstream string
}

// Cache answers from memory and asks the upstream on a miss.
type Cache struct {
	cfg   Config
	store *otter.Cache[uint64, *entry]
	up    Exchanger
	group singleflight.Group
	// OnLookup, when set, is told whether each lookup was a hit, miss or stale.
	OnLookup func(Source)
}

// New returns a cache in front of up.
func New(cfg Config, up Exchanger) *Cache {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Cache{cfg: cfg, up: up}
	if cfg.MaxEntries > 0 {
		c.store = otter.Must(&otter.Options[uint64, *entry]{MaximumSize: cfg.MaxEntries})
	}
	return c
}

// Len is the number of cached answers.
func (c *Cache) Len() int {
	if c.store == nil {
		return 0
	}
	return c.store.EstimatedSize()
}

// NowNano is the cache's clock in unix nanoseconds.
func (c *Cache) NowNano() int64 { return c.cfg.Now().UnixNano() }

// Hit returns the fresh packed answer for a question given by its lower-case
// wire name, or nil. It is the server's fast path: it allocates nothing.
func (c *Cache) Hit(key uint64, lname []byte, qtype, qclass uint16, do bool, now int64) *wire.Entry {
	if c.store == nil {
		return nil
	}
	e, ok := c.store.GetIfPresent(key)
	if !ok || !e.FreshFor(lname, qtype, qclass, do, now) {
		return nil
	}
	c.note(FromCache)
	return &e.Entry
}

// Result is an answer with its provenance. Msg is the caller's own copy.
type Result struct {
	Msg      *dns.Msg
	Source   Source
	Upstream string // the upstream that gave it
}

// Resolve answers name/qtype from the cache, else from the upstream. The
// query sent upstream is in lower case with recursion desired and EDNS0
// (DO as asked); no client EDNS option is ever passed on.
func (c *Cache) Resolve(ctx context.Context, name string, qtype, qclass uint16, do bool) (Result, error) {
	name = strings.ToLower(dns.Fqdn(name))
	lname, err := wire.PackName(name)
	if err != nil {
		return Result{}, err
	}
	key := wire.Key(lname, qtype, qclass, do)
	now := c.NowNano()
	var stale *entry
	if c.store != nil {
		if e, ok := c.store.GetIfPresent(key); ok && e.Matches(lname, qtype, qclass, do) {
			if now < e.Expires {
				if m, err := e.Msg(now); err == nil {
					c.note(FromCache)
					return Result{Msg: m, Source: FromCache, Upstream: e.upstream}, nil
				}
			} else if now < e.Expires+int64(c.cfg.ServeStale) {
				stale = e
			}
		}
	}
	c.note(FromUpstream)
	v, err, shared := c.group.Do(groupKey(name, qtype, qclass, do), func() (any, error) {
		// Shared by every waiter: it must not end with the first caller's context.
		return c.fetch(context.WithoutCancel(ctx), key, name, qtype, qclass, do)
	})
	if err != nil {
		if stale != nil {
			if m, uerr := stale.Msg(now); uerr == nil {
				c.note(FromStale)
				setTTLs(m, StaleTTL)
				return Result{Msg: m, Source: FromStale, Upstream: stale.upstream}, nil
			}
		}
		return Result{}, err
	}
	f := v.(fetched)
	msg := f.msg
	if shared {
		msg = msg.Copy() // every waiter gets its own
	}
	return Result{Msg: msg, Source: FromUpstream, Upstream: f.upstream}, nil
}

type fetched struct {
	msg      *dns.Msg
	upstream string
}

func (c *Cache) fetch(ctx context.Context, key uint64, name string, qtype, qclass uint16, do bool) (fetched, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.Question[0].Qclass = qclass
	q.SetEdns0(dns.DefaultMsgSize, do)
	resp, upstream, err := c.up.Exchange(ctx, q)
	if err != nil {
		return fetched{}, err
	}
	canonical(resp, name)
	if c.store != nil {
		if life := lifetime(resp, c.cfg.MaxTTL, c.cfg.NegativeMaxTTL); life > 0 {
			now := c.NowNano()
			if e, err := wire.Build(resp, 0, now, now+int64(life)); err == nil {
				e.DO = do
				c.store.Set(key, &entry{Entry: e, upstream: upstream})
			}
		}
	}
	return fetched{msg: resp, upstream: upstream}, nil
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

func groupKey(name string, qtype, qclass uint16, do bool) string {
	d := "0"
	if do {
		d = "1"
	}
	return name + "/" + strconv.Itoa(int(qtype)) + "/" + strconv.Itoa(int(qclass)) + "/" + d
}
