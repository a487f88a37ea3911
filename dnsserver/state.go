package dnsserver

import (
	"context"
	"net/netip"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// Resolver answers names through the cache and the upstreams.
type Resolver interface {
	Resolve(ctx context.Context, name string, qtype, qclass uint16, do bool) (cache.Result, error)
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
	// hits answers forwarded names from packed cache entries on the fast
	// path; nil when the resolver keeps none.
	hits hitCache
	// endpointAnswers holds packed endpoint answers for the fast path. It
	// lives and dies with the State, so a reload never serves old decisions.
	endpointAnswers *otter.Cache[uint64, *wire.Entry]
}

// hitCache is the fast-path side of cache.Cache.
type hitCache interface {
	Hit(key uint64, lname []byte, qtype, qclass uint16, do bool, now int64) *wire.Entry
	NowNano() int64
}

// maxEndpointAnswers bounds the packed endpoint answers ("*" lists every bucket).
const maxEndpointAnswers = 100_000

func (st *State) nowNano() int64 {
	if st.hits != nil {
		return st.hits.NowNano()
	}
	return time.Now().UnixNano()
}

// NewState prepares cfg for serving with resolver.
func NewState(cfg *config.Config, resolver Resolver) *State {
	n := max(len(cfg.Upstreams), 1)
	hits, _ := resolver.(hitCache)
	return &State{
		hits:            hits,
		Config:          cfg,
		Matcher:         zones.New(cfg.Endpoints),
		Resolver:        resolver,
		budget:          2*time.Duration(n)*cfg.UpstreamTimeout + time.Second,
		limiter:         newRateLimiter(cfg.Access.RateLimitQPS),
		endpointAnswers: otter.Must(&otter.Options[uint64, *wire.Entry]{MaximumSize: maxEndpointAnswers}),
	}
}

func (st *State) allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range st.Config.Access.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
