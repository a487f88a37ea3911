package cache

import (
	"strings"

	"github.com/miekg/dns"
)

// scrub drops what an upstream reply says beyond the question, before it
// is cached or seen by a client (RFC 2181 §5.4.1, RFC 5452 §6), as Unbound
// and BIND do:
//   - answer: records owned by the question name or a name its CNAME/DNAME
//     chain leads to, of the asked type (any, for ANY), CNAME, DNAME or
//     RRSIG; a DNAME where it applies to a name of the chain;
//   - authority: SOA and NS records of an ancestor of a chain name (the zone
//     of the answer), and other records (NSEC, NSEC3, DS, RRSIG) inside such
//     a zone, or owned by a chain name when there is none;
//   - additional: records inside the zone of the answer, owned by a chain
//     name, or addresses of a name a kept NS, MX or SRV record points at.
//
// An upstream can then not plant records for other names in the cache, or
// in a client's, through an answer that merely carries them.
func scrub(m *dns.Msg, qname string, qtype uint16) {
	chain := answerChain(m, qname, qtype)
	var zones []string
	m.Ns = keepOnly(m.Ns, func(rr dns.RR) bool {
		h := rr.Header()
		if h.Rrtype == dns.TypeSOA || h.Rrtype == dns.TypeNS {
			// The root is no zone of an answer to anything but the root: it
			// would make every name "inside".
			if (h.Name != "." || chain.has(".")) && chain.hasDescendantOf(h.Name) {
				zones = append(zones, h.Name)
				return true
			}
			return false
		}
		return true // judged once the zones are known
	})
	inZone := func(name string) bool {
		for _, z := range zones {
			if dns.IsSubDomain(z, name) {
				return true
			}
		}
		return false
	}
	m.Ns = keepOnly(m.Ns, func(rr dns.RR) bool {
		h := rr.Header()
		return h.Rrtype == dns.TypeSOA || h.Rrtype == dns.TypeNS || inZone(h.Name) || chain.has(h.Name)
	})
	targets := pointedAt(m.Answer, m.Ns)
	m.Extra = keepOnly(m.Extra, func(rr dns.RR) bool {
		h := rr.Header()
		switch {
		case h.Rrtype == dns.TypeOPT, inZone(h.Name), chain.has(h.Name):
			return true
		case h.Rrtype == dns.TypeA, h.Rrtype == dns.TypeAAAA, h.Rrtype == dns.TypeRRSIG:
			return targets[strings.ToLower(h.Name)]
		}
		return false
	})
}

// names is a set of lower-case names.
type names map[string]bool

func (n names) has(name string) bool { return n[strings.ToLower(name)] }

// hasDescendantOf reports whether a name of the set is zone or below it.
func (n names) hasDescendantOf(zone string) bool {
	for name := range n {
		if dns.IsSubDomain(zone, name) {
			return true
		}
	}
	return false
}

// answerChain keeps the answer records that belong to the question and
// returns the names of its chain: the question name and every name a kept
// CNAME or DNAME leads to. Records may come in any order.
func answerChain(m *dns.Msg, qname string, qtype uint16) names {
	chain := names{strings.ToLower(qname): true}
	keep := make([]bool, len(m.Answer))
	for grown := true; grown; {
		grown = false
		for i, rr := range m.Answer {
			if keep[i] {
				continue
			}
			h := rr.Header()
			switch {
			case h.Rrtype == dns.TypeDNAME:
				for name := range chain {
					// A DNAME applies to the names strictly below its owner.
					if !strings.EqualFold(name, h.Name) && dns.IsSubDomain(h.Name, name) {
						keep[i] = true
						target := strings.ToLower(name[:len(name)-len(h.Name)] + rr.(*dns.DNAME).Target)
						if _, ok := dns.IsDomainName(target); ok {
							chain[target] = true
						}
						break
					}
				}
			case !chain.has(h.Name):
			case h.Rrtype == dns.TypeCNAME:
				keep[i] = true
				chain[strings.ToLower(rr.(*dns.CNAME).Target)] = true
			case qtype == dns.TypeANY, h.Rrtype == qtype, h.Rrtype == dns.TypeRRSIG:
				keep[i] = true
			}
			grown = grown || keep[i]
		}
	}
	kept := m.Answer[:0:0]
	for i, rr := range m.Answer {
		// The RRSIG of a kept DNAME is owned by the DNAME's owner.
		if keep[i] || isSigOfKept(rr, m.Answer, keep) {
			kept = append(kept, rr)
		}
	}
	m.Answer = kept
	return chain
}

// isSigOfKept reports whether rr is an RRSIG over a kept DNAME.
func isSigOfKept(rr dns.RR, answer []dns.RR, keep []bool) bool {
	sig, ok := rr.(*dns.RRSIG)
	if !ok || sig.TypeCovered != dns.TypeDNAME {
		return false
	}
	for i, other := range answer {
		if keep[i] && other.Header().Rrtype == dns.TypeDNAME && strings.EqualFold(other.Header().Name, sig.Hdr.Name) {
			return true
		}
	}
	return false
}

// pointedAt is the set of names the NS, MX and SRV records point at.
func pointedAt(sections ...[]dns.RR) names {
	out := names{}
	for _, s := range sections {
		for _, rr := range s {
			switch v := rr.(type) {
			case *dns.NS:
				out[strings.ToLower(v.Ns)] = true
			case *dns.MX:
				out[strings.ToLower(v.Mx)] = true
			case *dns.SRV:
				out[strings.ToLower(v.Target)] = true
			}
		}
	}
	return out
}

// keepOnly returns the records of rrs that keep picks, filtered in place:
// the message is the fetch's own, and keep never looks at rrs.
func keepOnly(rrs []dns.RR, keep func(dns.RR) bool) []dns.RR {
	out := rrs[:0]
	for _, rr := range rrs {
		if keep(rr) {
			out = append(out, rr)
		}
	}
	return out
}
