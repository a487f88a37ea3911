package wire

import (
	"time"

	"github.com/miekg/dns"
)

// Limits are the configured TTL caps; one rule for every packed answer,
// forwarded or synthesized.
type Limits struct {
	MaxTTL         time.Duration // cache.max_ttl; 0: no cap
	NegativeMaxTTL time.Duration // cache.negative_max_ttl
}

// Clamp makes an answer's TTLs what clients may see: a TTL with the top bit
// set counts as 0 (RFC 2181 §8); none is above MaxTTL (as BIND's
// max-cache-ttl); and in a negative answer the SOA's is at most its MINIMUM
// and NegativeMaxTTL (RFC 2308 §5).
func (l Limits) Clamp(m *dns.Msg) {
	maxTTL := capSeconds(l.maxTTL())
	negative := isNegative(m)
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			if h.Ttl&(1<<31) != 0 {
				h.Ttl = 0
			}
			h.Ttl = min(h.Ttl, maxTTL)
			if soa, ok := rr.(*dns.SOA); ok && negative {
				h.Ttl = min(h.Ttl, soa.Minttl, capSeconds(l.NegativeMaxTTL))
			}
		}
	}
}

// Lifetime says how long a clamped answer may be kept: no longer than its
// shortest record in any section (OPT excluded), so that no record is ever
// served at TTL 0. A negative answer (NXDOMAIN, or NODATA, behind a CNAME
// chain or not) needs an SOA to be kept at all (RFC 2308 §5), whose TTL
// Clamp has already bounded. Zero means do not keep.
func (l Limits) Lifetime(m *dns.Msg) time.Duration {
	if m.Truncated || m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return 0
	}
	ttl, found, soa := uint32(0), false, false
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			soa = soa || h.Rrtype == dns.TypeSOA
			if !found || h.Ttl < ttl {
				ttl, found = h.Ttl, true
			}
		}
	}
	if !found || isNegative(m) && !soa {
		return 0
	}
	return min(time.Duration(ttl)*time.Second, l.maxTTL())
}

func (l Limits) maxTTL() time.Duration {
	if l.MaxTTL <= 0 {
		return (1<<31 - 1) * time.Second
	}
	return l.MaxTTL
}

// isNegative reports an NXDOMAIN, or a NOERROR whose answer holds no data
// of the asked type: empty, or only the CNAME (or DNAME) chain towards it.
func isNegative(m *dns.Msg) bool {
	if m.Rcode == dns.RcodeNameError {
		return true
	}
	if m.Rcode != dns.RcodeSuccess || len(m.Question) != 1 {
		return false
	}
	qtype := m.Question[0].Qtype
	for _, rr := range m.Answer {
		switch t := rr.Header().Rrtype; {
		case t == qtype, qtype == dns.TypeANY:
			return false
		case t != dns.TypeCNAME && t != dns.TypeDNAME && t != dns.TypeRRSIG:
			return false
		}
	}
	return true
}

func capSeconds(d time.Duration) uint32 {
	return uint32(min(d/time.Second, 1<<31-1))
}
