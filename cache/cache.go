// Package cache decorates the upstream forwarder with a bounded answer cache
// (TTL countdown, RFC 2308 negative caching, RFC 8767 serve-stale) and
// coalesces identical concurrent misses into one upstream query.
package cache

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
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

func (s Source) String() string {
	return [...]string{"upstream", "cache", "stale"}[s]
}

// Exchanger is what the cache sits in front of: upstream.Forwarder.
type Exchanger interface {
	Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, string, error)
}

// Key identifies a cached answer. Name is lower case.
type Key struct {
	Name   string
	Qtype  uint16
	Qclass uint16
	DO     bool
}

type entry struct {
	msg      *dns.Msg
	stored   time.Time
	lifetime time.Duration
	upstream string
}

// Config bounds the cache.
type Config struct {
	MaxEntries     int // 0 turns caching off (coalescing stays)
	MaxTTL         time.Duration
	NegativeMaxTTL time.Duration
	ServeStale     time.Duration
	Now            func() time.Time // nil: time.Now
}

// Cache answers from memory and asks the upstream on a miss.
type Cache struct {
	cfg   Config
	store *otter.Cache[Key, *entry]
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
		c.store = otter.Must(&otter.Options[Key, *entry]{MaximumSize: cfg.MaxEntries})
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
	key := Key{Name: strings.ToLower(name), Qtype: qtype, Qclass: qclass, DO: do}
	now := c.cfg.Now()
	var stale *entry
	if c.store != nil {
		if e, ok := c.store.GetIfPresent(key); ok {
			age := now.Sub(e.stored)
			if age < e.lifetime {
				c.note(FromCache)
				elapsed := uint32(age / time.Second)
				return Result{Msg: withTTLs(e.msg, func(t uint32) uint32 { return t - min(t, elapsed) }), Source: FromCache, Upstream: e.upstream}, nil
			}
			if age < e.lifetime+c.cfg.ServeStale {
				stale = e
			}
		}
	}
	c.note(FromUpstream)
	v, err, _ := c.group.Do(groupKey(key), func() (any, error) {
		// Shared by every waiter: it must not end with the first caller's context.
		return c.fetch(context.WithoutCancel(ctx), key)
	})
	if err != nil {
		if stale != nil {
			c.note(FromStale)
			return Result{Msg: withTTLs(stale.msg, func(uint32) uint32 { return StaleTTL }), Source: FromStale, Upstream: stale.upstream}, nil
		}
		return Result{}, err
	}
	e := v.(*entry)
	return Result{Msg: e.msg.Copy(), Source: FromUpstream, Upstream: e.upstream}, nil
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

func (c *Cache) fetch(ctx context.Context, key Key) (*entry, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(key.Name), key.Qtype)
	q.Question[0].Qclass = key.Qclass
	q.SetEdns0(dns.DefaultMsgSize, key.DO)
	resp, upstream, err := c.up.Exchange(ctx, q)
	if err != nil {
		return nil, err
	}
	stripOPT(resp)
	e := &entry{msg: resp, stored: c.cfg.Now(), upstream: upstream}
	if c.store != nil {
		if e.lifetime = lifetime(resp, c.cfg.MaxTTL, c.cfg.NegativeMaxTTL); e.lifetime > 0 {
			c.store.Set(key, e)
		}
	}
	return e, nil
}

// stripOPT drops the upstream's OPT record: the client gets its own.
func stripOPT(m *dns.Msg) {
	extra := m.Extra[:0]
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
}

func groupKey(k Key) string {
	do := "0"
	if k.DO {
		do = "1"
	}
	return k.Name + "/" + strconv.Itoa(int(k.Qtype)) + "/" + strconv.Itoa(int(k.Qclass)) + "/" + do
}
