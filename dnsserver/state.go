package dnsserver

import (
	"context"
	"net/netip"
	"time"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/zones"
)

// Resolver answers names through the cache and the upstreams.
type Resolver interface {
	Resolve(ctx context.Context, q cache.Question) (cache.Result, error)
	// Probe asks the upstreams without caching the answer.
	Probe(ctx context.Context, name string, qtype uint16) error
}

// State is everything a query is answered from. A reload builds a new State
// and swaps it in whole; queries in flight keep the one they started with.
type State struct {
	Config   *config.Config
	Matcher  *zones.Matcher
	Resolver Resolver
	// budget bounds one query: every upstream may take its timeout once, for
	// the endpoint target and then for a public fallback.
	budget  time.Duration
	limiter *rateLimiter
	clock   *cache.Clock
	limits  cache.Limits
	// forwarded is the resolver's store of forwarded answers, which the fast
	// path reads; nil when nothing is cached.
	forwarded *cache.Store
	// endpointAnswers holds packed endpoint answers for the fast path. It
	// lives and dies with the State, so a reload never serves old decisions.
	endpointAnswers *cache.Store
	// hostnames finds an endpoint (its index, the first one) by its own
	// hostname, lower case and fully qualified.
	hostnames map[string]int
	// Health probes the endpoints that have health set; nil when none has.
	// Set it before the State serves.
	Health *health.Monitor
}

// Packed is where a resolver keeps its answers and the clock they are
// judged by; the fast path shares both.
type Packed struct {
	Store *cache.Store // nil: nothing is cached
	Clock *cache.Clock
}

// PackedOf is what a cache.Cache shares with the fast path.
func PackedOf(c *cache.Cache) Packed { return Packed{Store: c.Store(), Clock: c.Clock()} }

// maxEndpointAnswers bounds the packed endpoint answers ("*" lists every bucket).
const maxEndpointAnswers = 100_000

// NewState prepares cfg for serving with resolver, whose packed answers,
// clock and TTL rules the fast path shares.
func NewState(cfg *config.Config, resolver Resolver, packed Packed) *State {
	n := max(len(cfg.Upstreams), 1)
	hostnames := map[string]int{}
	for i, e := range cfg.Endpoints {
		if _, taken := hostnames[e.Hostname]; e.Hostname != "" && !taken {
			hostnames[e.Hostname] = i
		}
	}
	if packed.Clock == nil {
		packed.Clock = cache.NewClock(nil)
	}
	return &State{
		Config:          cfg,
		Matcher:         zones.New(cfg.Endpoints),
		Resolver:        resolver,
		budget:          2*time.Duration(n)*cfg.UpstreamTimeout + time.Second,
		limiter:         newRateLimiter(cfg.Access.RateLimitQPS),
		clock:           packed.Clock,
		limits:          cache.Limits{MaxTTL: cfg.Cache.MaxTTL, NegativeMaxTTL: cfg.Cache.NegativeMaxTTL},
		forwarded:       packed.Store,
		endpointAnswers: cache.NewStore(maxEndpointAnswers),
		hostnames:       hostnames,
	}
}

// allowed reports whether access.allow admits addr. A link-local IPv6
// client's zone (fe80::1%eth0) is not part of its address.
func (st *State) allowed(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range st.Config.Access.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
