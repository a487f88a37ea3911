package dnsserver

import (
	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// appendBadKey adds the TSIG record of a NOTAUTH reply to a query signed
// with a key s3dns does not have (it has none): the request's key name,
// algorithm, time and fudge, no MAC, error BADKEY (RFC 8945 §5.2 and
// §5.3.2: such a reply is unsigned). Rare, so miekg/dns does the packing.
func appendBadKey(dst []byte, start int, q *wire.Query) []byte {
	rr, _, err := dns.UnpackRR(q.TSIG, 0)
	req, ok := rr.(*dns.TSIG)
	if err != nil || !ok {
		return dst
	}
	reply := &dns.TSIG{
		Hdr:        dns.RR_Header{Name: req.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  req.Algorithm,
		TimeSigned: req.TimeSigned,
		Fudge:      req.Fudge,
		OrigId:     req.OrigId,
		Error:      dns.RcodeBadKey,
	}
	buf := make([]byte, dns.Len(reply)+16)
	n, err := dns.PackRR(reply, buf, 0, nil, false)
	if err != nil {
		return dst
	}
	return wire.AppendRR(dst, start, buf[:n])
}
