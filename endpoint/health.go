package endpoint

import (
	"context"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/wire"
)

// HealthResolver gives the health monitor an endpoint hostname's current
// addresses, through r (the cache): the A and AAAA records in its answers.
func HealthResolver(r Resolver) health.Resolver {
	return func(ctx context.Context, hostname string) ([]netip.Addr, error) {
		var out []netip.Addr
		var lastErr error
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			res, err := r.Resolve(ctx, wire.NewQuestion(hostname, qtype, 0))
			if err != nil {
				lastErr = err
				continue
			}
			out = append(out, addressesIn(res.Msg().Answer)...)
		}
		if len(out) == 0 && lastErr != nil {
			return nil, lastErr
		}
		return out, nil
	}
}

func addressesIn(rrs []dns.RR) []netip.Addr {
	var out []netip.Addr
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A); ok {
				out = append(out, a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// withoutDown drops the A and AAAA records of addresses the view says are
// down; other records stay.
func withoutDown(rrs []dns.RR, v health.View) []dns.RR {
	if !v.On() {
		return rrs
	}
	out := rrs[:0:0]
	for _, rr := range rrs {
		if a := addressesIn([]dns.RR{rr}); len(a) == 1 && v.Down(a[0]) {
			continue
		}
		out = append(out, rr)
	}
	return out
}

// healthyEndpoint is e with its down static addresses left out.
func healthyEndpoint(e *model.Endpoint, v health.View) *model.Endpoint {
	if !v.On() || len(e.Addresses) == 0 {
		return e
	}
	c := *e
	c.Addresses = nil
	for _, a := range e.Addresses {
		if !v.Down(a) {
			c.Addresses = append(c.Addresses, a)
		}
	}
	return &c
}

// healthTTL is the longest TTL the addresses of a probed endpoint are given
// out with: interval × fall, the time health takes to notice a change, so
// that downstream caches follow it as quickly. 0 without health checks.
func healthTTL(e *model.Endpoint) uint32 {
	if e == nil || e.Health == nil {
		return 0
	}
	return max(uint32(e.Health.Interval*time.Duration(e.Health.Fall)/time.Second), 1)
}

// capAddresses bounds the TTLs of an endpoint answer's addresses at hc: the
// synthesized ones now, those counting down with the target as they age.
func capAddresses(resp *dns.Msg, aging wire.Aging, hc uint32) wire.Aging {
	for _, rr := range resp.Answer {
		if h := rr.Header(); (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) && aging.Fixed != nil && aging.Fixed(rr) {
			h.Ttl = min(h.Ttl, hc)
		}
	}
	if aging.Cap == 0 || aging.Cap > hc {
		aging.Cap = hc
	}
	return aging
}
