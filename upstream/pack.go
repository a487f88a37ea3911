package upstream

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// packQuery packs q into buf as miekg's PackBuffer would, without its
// compression map and reflection for the one shape every upstream query has
// (one question, and an OPT with no options, or none): most of a query's
// packing cost on the miss path. Any other shape goes to PackBuffer.
func packQuery(buf []byte, q *dns.Msg) ([]byte, error) {
	if len(q.Question) != 1 || len(q.Answer) != 0 || len(q.Ns) != 0 || len(q.Extra) > 1 {
		return q.PackBuffer(buf)
	}
	var opt *dns.OPT
	if len(q.Extra) == 1 {
		var ok bool
		if opt, ok = q.Extra[0].(*dns.OPT); !ok || len(opt.Option) != 0 || opt.Hdr.Name != "." {
			return q.PackBuffer(buf)
		}
	}
	b := buf[:0]
	b = binary.BigEndian.AppendUint16(b, q.Id)
	var flags uint16
	if q.RecursionDesired {
		flags |= 1 << 8
	}
	if q.CheckingDisabled {
		flags |= 1 << 4
	}
	if q.AuthenticatedData {
		flags |= 1 << 5
	}
	flags |= uint16(q.Opcode&0xf) << 11
	b = binary.BigEndian.AppendUint16(b, flags)
	arcount := uint16(0)
	if opt != nil {
		arcount = 1
	}
	b = append(b, 0, 1, 0, 0, 0, 0, byte(arcount>>8), byte(arcount))
	start := len(b)
	b = b[:cap(b)]
	n, err := dns.PackDomainName(q.Question[0].Name, b, start, nil, false)
	if err != nil {
		return nil, err
	}
	b = b[:n]
	b = binary.BigEndian.AppendUint16(b, q.Question[0].Qtype)
	b = binary.BigEndian.AppendUint16(b, q.Question[0].Qclass)
	if opt != nil {
		b = append(b, 0) // root owner
		b = binary.BigEndian.AppendUint16(b, dns.TypeOPT)
		b = binary.BigEndian.AppendUint16(b, opt.Hdr.Class) // the UDP payload size
		b = binary.BigEndian.AppendUint32(b, opt.Hdr.Ttl)   // extended rcode, version, DO and the other flags
		b = append(b, 0, 0)                                 // no options
	}
	return b, nil
}
