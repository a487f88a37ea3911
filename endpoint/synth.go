package endpoint

import (
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// targetRecords is what the upstreams said about the endpoint's hostname for the
// asked type: the rcode, the answer chain and the authority section.
type targetRecords struct {
	Rcode  int
	Answer []dns.RR
	Ns     []dns.RR
}

// lookup says which records of the endpoint's hostname an answer to req
// needs; ok is false when the answer needs none.
func lookup(req *dns.Msg, m zones.Match) (name string, qtype uint16, ok bool) {
	ep, q := m.Endpoint, req.Question[0]
	if ep.Hostname == "" {
		return "", 0, false
	}
	if ep.Answer == model.AnswerCNAME {
		return ep.Hostname, q.Qtype, !cnameAlone(q.Qtype)
	}
	return ep.Hostname, q.Qtype, isAddressType(q.Qtype)
}

// synthesis is a synthesized answer and how its TTLs age once packed: the
// records s3dns made (CNAME, SOA, static addresses) keep the endpoint's TTL,
// the target's records count down with the target, an alias record never
// above the endpoint's TTL. A cached answer then shows, at any moment, the
// TTLs a fresh synthesis would.
type synthesis struct {
	Msg *dns.Msg
	// Forward: the query must go upstream as if the name were not listed
	// (on_unresolved: public); Msg is nil.
	Forward bool
	Aging   wire.Aging
}

// synthesize builds the reply to req for a matched name. target is the result of
// lookup's query, nil when it could not be resolved or was not needed.
func synthesize(req *dns.Msg, m zones.Match, target *targetRecords) synthesis {
	ep := m.Endpoint
	if ep.Answer == model.AnswerCNAME && ep.Hostname != "" {
		return cnameAnswer(req, m, target)
	}
	return aliasAnswer(req, m, target)
}

// synthesized picks the records s3dns made: those not from the target.
func synthesized(target *targetRecords) func(dns.RR) bool {
	if target == nil {
		return func(dns.RR) bool { return true }
	}
	from := map[dns.RR]bool{}
	for _, s := range [][]dns.RR{target.Answer, target.Ns} {
		for _, rr := range s {
			from[rr] = true
		}
	}
	return func(rr dns.RR) bool { return !from[rr] }
}

func cnameAnswer(req *dns.Msg, m zones.Match, target *targetRecords) synthesis {
	ep, q := m.Endpoint, req.Question[0]
	resp := reply(req)
	cname := &dns.CNAME{Hdr: header(q.Name, dns.TypeCNAME, ep.TTLSeconds()), Target: ep.Hostname}
	resp.Answer = []dns.RR{cname}
	switch {
	case cnameAlone(q.Qtype):
	case target != nil:
		resp.Rcode = target.Rcode
		resp.Answer = append(resp.Answer, target.Answer...)
		if len(target.Answer) == 0 {
			resp.Ns = target.Ns
			if opt := req.IsEdns0(); opt == nil || !opt.Do() {
				// Without DO the SOA alone; with it the whole authority
				// section, so that NSEC/NSEC3 proofs and RRSIGs survive.
				resp.Ns = soaOnly(target.Ns)
			}
		}
	case len(ep.Addresses) > 0:
		resp.Answer = append(resp.Answer, staticRecords(ep.Hostname, q.Qtype, ep)...)
	case ep.OnUnresolved == model.UnresolvedPublic:
		return synthesis{Forward: true}
	case ep.OnUnresolved == model.UnresolvedServfail:
		return synthesis{Msg: servfail(req)}
	}
	return synthesis{Msg: resp, Aging: wire.Aging{Fixed: synthesized(target)}}
}

func aliasAnswer(req *dns.Msg, m zones.Match, target *targetRecords) synthesis {
	ep, q := m.Endpoint, req.Question[0]
	resp := reply(req)
	if !isAddressType(q.Qtype) {
		resp.Ns = []dns.RR{zoneSOA(q.Name, m)}
		return synthesis{Msg: resp, Aging: wire.Aging{Fixed: synthesized(nil)}}
	}
	var records []dns.RR
	aging := wire.Aging{Fixed: synthesized(nil)}
	switch {
	case ep.Hostname != "" && target != nil && target.Rcode == dns.RcodeSuccess:
		records = reown(q.Name, q.Qtype, target.Answer)
		// The records count down with the target's, capped at the
		// endpoint's TTL: min(endpoint TTL, target's remaining TTL).
		fromTarget := map[dns.RR]bool{}
		for _, rr := range records {
			fromTarget[rr] = true
		}
		aging = wire.Aging{Cap: ep.TTLSeconds(), Fixed: func(rr dns.RR) bool { return !fromTarget[rr] }}
	case len(ep.Addresses) > 0:
		records = staticRecords(q.Name, q.Qtype, ep)
	case ep.OnUnresolved == model.UnresolvedPublic:
		return synthesis{Forward: true}
	default:
		return synthesis{Msg: servfail(req)}
	}
	if len(records) == 0 {
		resp.Ns = []dns.RR{zoneSOA(q.Name, m)}
	}
	resp.Answer = records
	return synthesis{Msg: resp, Aging: aging}
}

// reown copies the records of type qtype from a resolved chain under owner,
// with their own TTL (Reply.Aging caps it at the endpoint's).
func reown(owner string, qtype uint16, chain []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range chain {
		if rr.Header().Rrtype != qtype {
			continue
		}
		c := dns.Copy(rr)
		c.Header().Name = owner
		out = append(out, c)
	}
	return out
}

// staticRecords turns the endpoint's configured addresses of the asked
// family into records under owner.
func staticRecords(owner string, qtype uint16, ep *model.Endpoint) []dns.RR {
	if !isAddressType(qtype) {
		return nil
	}
	var out []dns.RR
	for _, a := range ep.AddressesOf(qtype == dns.TypeAAAA) {
		hdr := header(owner, qtype, ep.TTLSeconds())
		if qtype == dns.TypeA {
			out = append(out, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		} else {
			out = append(out, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	return out
}

// zoneSOA is the synthesized SOA of the served zone for negative answers, its
// owner spelled as in the question.
func zoneSOA(qname string, m zones.Match) *dns.SOA {
	zone := zones.ZoneOf(m, qname)
	owner := zone
	if n := len(zone); len(qname) >= n && strings.EqualFold(qname[len(qname)-n:], zone) {
		owner = qname[len(qname)-n:]
	}
	ttl := m.Endpoint.TTLSeconds()
	return &dns.SOA{
		Hdr:     header(owner, dns.TypeSOA, ttl),
		Ns:      zone,
		Mbox:    "hostmaster." + zone,
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  ttl,
	}
}

func soaOnly(ns []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range ns {
		if rr.Header().Rrtype == dns.TypeSOA {
			out = append(out, rr)
		}
	}
	return out
}

// reply starts an authoritative answer echoing req's question as asked.
func reply(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	return resp
}

func servfail(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(req, dns.RcodeServerFailure)
	resp.RecursionAvailable = true
	return resp
}

func header(owner string, rrtype uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// cnameAlone: a CNAME query gets the CNAME itself, and so does ANY (RFC
// 8482: a minimal answer, not chased).
func cnameAlone(t uint16) bool { return t == dns.TypeCNAME || t == dns.TypeANY }

func isAddressType(t uint16) bool { return t == dns.TypeA || t == dns.TypeAAAA }
