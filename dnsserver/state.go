package dnsserver

import (
	"context"
	"net/netip"
	"time"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
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
}

// NewState prepares cfg for serving with resolver.
func NewState(cfg *config.Config, resolver Resolver) *State {
	n := max(len(cfg.Upstreams), 1)
	return &State{
		Config:   cfg,
		Matcher:  zones.New(cfg.Endpoints),
		Resolver: resolver,
		budget:   2*time.Duration(n)*cfg.UpstreamTimeout + time.Second,
		limiter:  newRateLimiter(cfg.Access.RateLimitQPS),
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
