package dnsserver

import (
	"net/netip"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// maxRateClients bounds the per-client limiter table: spoofed source
// addresses evict each other instead of exhausting memory.
const maxRateClients = 100_000

// rateLimiter gives every client address its own token bucket.
type rateLimiter struct {
	qps     rate.Limit
	burst   int
	clients *otter.Cache[netip.Addr, *rate.Limiter]
}

func newRateLimiter(qps float64) *rateLimiter {
	if qps <= 0 {
		return nil
	}
	return &rateLimiter{
		qps:     rate.Limit(qps),
		burst:   max(1, int(qps)),
		clients: otter.Must(&otter.Options[netip.Addr, *rate.Limiter]{MaximumSize: maxRateClients}),
	}
}

// allow reports whether client may send one more query now. A nil limiter
// allows everything.
func (r *rateLimiter) allow(client netip.Addr) bool {
	if r == nil {
		return true
	}
	lim, ok := r.clients.GetIfPresent(client)
	if !ok {
		lim, _ = r.clients.SetIfAbsent(client, rate.NewLimiter(r.qps, r.burst))
	}
	return lim.Allow()
}
