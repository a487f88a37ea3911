package dnsserver

import (
	"strings"

	"github.com/miekg/dns"
)

// Sizes of EDNS0 (RFC 6891) answers: 1232 avoids IP fragmentation (DNS Flag Day 2020).
const (
	maxUDPSize   = 1232
	plainUDPSize = dns.MinMsgSize // 512, for clients without EDNS0
)

// ednsOf returns the client's OPT record, or ok false with a reply when the
// EDNS0 part of the query is itself wrong (two OPTs, unknown version).
func ednsOf(req *dns.Msg) (opt *dns.OPT, bad *dns.Msg) {
	for _, rr := range req.Extra {
		o, isOpt := rr.(*dns.OPT)
		if !isOpt {
			continue
		}
		if opt != nil {
			return nil, rcodeReply(req, dns.RcodeFormatError)
		}
		opt = o
	}
	if opt != nil && opt.Version() != 0 {
		resp := rcodeReply(req, dns.RcodeBadVers)
		resp.SetEdns0(maxUDPSize, opt.Do())
		return nil, resp
	}
	return opt, nil
}

// finish makes resp ready for this client: the question echoed byte for
// byte, owner names in the asked spelling, an OPT of our own when the client
// sent one (resp has none: the cache drops upstream OPTs, synthesized answers
// have none), and cut to the client's UDP size with TC set when it does not fit.
func finish(resp, req *dns.Msg, opt *dns.OPT, udp bool) {
	resp.Id = req.Id
	resp.Question = req.Question
	qname := req.Question[0].Name
	for _, section := range [][]dns.RR{resp.Answer, resp.Ns, resp.Extra} {
		for _, rr := range section {
			if h := rr.Header(); h.Name != qname && strings.EqualFold(h.Name, qname) {
				h.Name = qname
			}
		}
	}
	size := dns.MaxMsgSize
	if opt != nil {
		resp.SetEdns0(maxUDPSize, opt.Do())
		if udp {
			size = int(min(max(opt.UDPSize(), plainUDPSize), maxUDPSize))
		}
	} else if udp {
		size = plainUDPSize
	}
	resp.Compress = true
	if udp {
		resp.Truncate(size)
	}
}
