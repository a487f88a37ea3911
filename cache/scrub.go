package cache

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// scrub makes an upstream reply as minimal as Unbound's and BIND's
// (Unbound's minimal-responses, its default), before it is cached or seen
// by a client (RFC 2181 §5.4.1, RFC 5452 §6):
//   - answer: records owned by the question name or a name its CNAME/DNAME
//     chain leads to, of the asked type (any, for ANY), CNAME, DNAME or
//     RRSIG; a DNAME where it applies to a name of the chain, with the
//     CNAME it stands for synthesized when the upstream left it out (RFC
//     6672 §3.4: a stub that knows no DNAME still gets the address); no
//     other data beside a CNAME at the same name (RFC 2181 §10.1);
//   - authority: for a negative answer (NXDOMAIN, NODATA) the SOA of a zone
//     that holds a chain name and the proofs inside such a zone (NSEC,
//     NSEC3, RRSIG); for a positive one only such proofs (a wildcard's);
//     never NS records, of the zone or of an ancestor;
//   - additional: nothing but the OPT.
//
// An upstream can then not plant records for other names in the cache, or
// in a client's, through an answer that merely carries them.
func scrub(m *dns.Msg, qname string, qtype uint16) {
	chain := answerChain(m, qname, qtype)
	m.Answer = withoutBesideCNAME(m.Answer)
	m.Answer = withSynthesizedCNAMEs(m.Answer, chain)
	var zones zoneSet
	zones.of(m, chain)
	positive := m.Rcode == dns.RcodeSuccess && answers(m.Answer, chain, qtype)
	m.Ns = keepOnly(m.Ns, func(rr dns.RR) bool {
		h := rr.Header()
		switch h.Rrtype {
		case dns.TypeSOA:
			return !positive && zones.is(h.Name)
		case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
			return zones.holds(h.Name) || chain.has(h.Name)
		}
		return false
	})
	m.Extra = keepOnly(m.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
}

// zoneSet is the zones of an answer: those whose SOA or NS the authority
// section names and that hold a name of the chain, and the signers of the
// answer's signatures. The root counts only for the root. An answer has
// one or two; a few more go unrecorded (their proofs are then dropped).
type zoneSet struct {
	names [4]string
	n     int
}

func (z *zoneSet) of(m *dns.Msg, chain names) {
	for _, rr := range m.Ns {
		if h := rr.Header(); h.Rrtype == dns.TypeSOA || h.Rrtype == dns.TypeNS {
			z.add(h.Name, chain)
		}
	}
	for _, rr := range m.Answer {
		if sig, ok := rr.(*dns.RRSIG); ok && dns.IsSubDomain(sig.SignerName, sig.Hdr.Name) {
			z.add(sig.SignerName, chain)
		}
	}
}

func (z *zoneSet) add(name string, chain names) {
	if z.n == len(z.names) || z.is(name) || (name == "." && !chain.has(".")) || !chain.hasDescendantOf(name) {
		return
	}
	z.names[z.n] = name
	z.n++
}

// is reports whether name is one of the zones.
func (z *zoneSet) is(name string) bool {
	for _, zone := range z.names[:z.n] {
		if strings.EqualFold(zone, name) {
			return true
		}
	}
	return false
}

// holds reports whether name is inside one of the zones.
func (z *zoneSet) holds(name string) bool {
	for _, zone := range z.names[:z.n] {
		if dns.IsSubDomain(zone, name) {
			return true
		}
	}
	return false
}

// answers reports whether the answer holds data of the asked type at a
// name of the chain: the question answered, not a NODATA behind a CNAME.
func answers(answer []dns.RR, chain names, qtype uint16) bool {
	for _, rr := range answer {
		h := rr.Header()
		if chain.has(h.Name) && (h.Rrtype == qtype || qtype == dns.TypeANY && h.Rrtype != dns.TypeRRSIG) {
			return true
		}
	}
	return false
}

// withoutBesideCNAME drops other data at a name that has a CNAME (RFC 2181
// §10.1 allows none): the CNAME is what a resolver follows. Signatures
// and NSEC records may share the name.
func withoutBesideCNAME(answer []dns.RR) []dns.RR {
	aliased := names{}
	for _, rr := range answer {
		if rr.Header().Rrtype == dns.TypeCNAME {
			aliased[strings.ToLower(rr.Header().Name)] = true
		}
	}
	if len(aliased) == 0 {
		return answer
	}
	return keepOnly(answer, func(rr dns.RR) bool {
		switch h := rr.Header(); h.Rrtype {
		case dns.TypeCNAME, dns.TypeNSEC:
			return true
		case dns.TypeRRSIG:
			c := rr.(*dns.RRSIG).TypeCovered
			return !aliased.has(h.Name) || c == dns.TypeCNAME || c == dns.TypeNSEC
		default:
			return !aliased.has(h.Name)
		}
	})
}

// withSynthesizedCNAMEs adds, after each DNAME, the CNAME it stands for at
// every chain name it applies to that has none (RFC 6672 §3.4), with the
// DNAME's TTL, as Unbound and BIND do for an upstream that sent the DNAME
// alone.
func withSynthesizedCNAMEs(answer []dns.RR, chain names) []dns.RR {
	var out []dns.RR // allocated only when a CNAME is missing
	for i, rr := range answer {
		if out != nil {
			out = append(out, rr)
		}
		d, ok := rr.(*dns.DNAME)
		if !ok {
			continue
		}
		for _, name := range chain.sorted() {
			if strings.EqualFold(name, d.Hdr.Name) || !dns.IsSubDomain(d.Hdr.Name, name) || hasCNAME(answer, name) {
				continue
			}
			target := name[:len(name)-len(d.Hdr.Name)] + d.Target
			if _, ok := dns.IsDomainName(target); !ok {
				continue
			}
			if out == nil {
				out = append(make([]dns.RR, 0, len(answer)+1), answer[:i+1]...)
			}
			out = append(out, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: d.Hdr.Class, Ttl: d.Hdr.Ttl},
				Target: strings.ToLower(target)})
		}
	}
	if out == nil {
		return answer
	}
	return out
}

func hasCNAME(answer []dns.RR, name string) bool {
	for _, rr := range answer {
		if rr.Header().Rrtype == dns.TypeCNAME && strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// names is a set of lower-case names.
type names map[string]bool

func (n names) has(name string) bool { return n[strings.ToLower(name)] }

// sorted lists the names in order: synthesized records come out the same
// every time.
func (n names) sorted() []string {
	out := make([]string, 0, len(n))
	for name := range n {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

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
