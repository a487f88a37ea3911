package cache

import (
	"time"

	"github.com/miekg/dns"
)

// lifetime says how long a reply may be cached: the smallest TTL for a
// positive answer (capped at maxTTL), the SOA's TTL and MINIMUM for a
// negative one (RFC 2308, capped at negMax). Zero means do not cache.
func lifetime(m *dns.Msg, maxTTL, negMax time.Duration) time.Duration {
	if m.Truncated {
		return 0
	}
	switch {
	case m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0:
		ttl, ok := minTTL(m.Answer, m.Ns)
		if !ok {
			return 0
		}
		return min(seconds(ttl), maxTTL)
	case m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError:
		for _, rr := range m.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				return min(seconds(min(soa.Hdr.Ttl, soa.Minttl)), negMax, maxTTL)
			}
		}
	}
	return 0
}

func minTTL(sections ...[]dns.RR) (uint32, bool) {
	var ttl uint32
	found := false
	for _, s := range sections {
		for _, rr := range s {
			if t := rr.Header().Ttl; !found || t < ttl {
				ttl, found = t, true
			}
		}
	}
	return ttl, found
}

func seconds(s uint32) time.Duration { return time.Duration(s) * time.Second }
