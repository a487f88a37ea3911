package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// AppendError writes an error reply to q: its ID, opcode, RD and CD, the
// question when one parsed, no records, and an OPT when the query had one.
// rcode may be an extended one (BADVERS), which needs that OPT. RA is set
// except on FORMERR and NOTIMP (AA and AD never are), as BIND and Unbound
// answer a query they could not read or do not implement.
func AppendError(dst []byte, q *Query, rcode int) []byte {
	start := len(dst)
	flags := bitQR | q.Flags&(maskOp|bitRD|bitCD) | uint16(rcode&0xf)
	if rcode != dns.RcodeFormatError && rcode != dns.RcodeNotImplemented {
		flags |= bitRA
	}
	dst = binary.BigEndian.AppendUint16(dst, q.ID)
	dst = binary.BigEndian.AppendUint16(dst, flags)
	if q.Name == nil {
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	} else {
		dst = append(dst, 0, 1, 0, 0, 0, 0, 0, 0)
		dst = append(dst, q.Name...)
		dst = binary.BigEndian.AppendUint16(dst, q.Qtype)
		dst = binary.BigEndian.AppendUint16(dst, q.Qclass)
	}
	return appendOPT(dst, start, q, rcode)
}

// appendOPT adds s3dns's OPT record to the reply starting at start when the
// query carried one: payload size MaxUDPSize, version 0, DO echoed (RFC
// 3225), the upper bits of an extended rcode, and edns-tcp-keepalive when
// the transport set q.Keepalive.
func appendOPT(dst []byte, start int, q *Query, rcode int) []byte {
	if !q.HasOPT {
		return dst
	}
	var flags byte
	if q.DO {
		flags = 0x80
	}
	dst = append(dst, 0, 0, typeOPT, MaxUDPSize>>8, MaxUDPSize&0xff, byte(rcode>>4), 0, flags, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(optSize(q)-optLen)) // RDLENGTH: the options
	if q.Keepalive != 0 {
		dst = append(dst, 0, optionKeepalive, 0, 2, byte(q.Keepalive>>8), byte(q.Keepalive))
	}
	if q.EchoECS && q.HasECS {
		// The client subnet as asked, with the scope the answer holds for
		// (RFC 7871 §7.2.1).
		n := ecsAddrLen(q)
		dst = append(dst, 0, optionECS, 0, byte(4+n), byte(q.ECSFamily>>8), byte(q.ECSFamily), q.ECSSource, q.ECSScope)
		dst = append(dst, q.ecsAddr[:n]...)
	}
	r := dst[start:]
	binary.BigEndian.PutUint16(r[10:], binary.BigEndian.Uint16(r[10:])+1)
	return dst
}

// keepaliveLen is the length of an edns-tcp-keepalive option with its TIMEOUT.
const keepaliveLen = 6

// optSize is the length of the OPT record appendOPT adds for q.
func optSize(q *Query) int {
	if !q.HasOPT {
		return 0
	}
	n := optLen
	if q.Keepalive != 0 {
		n += keepaliveLen
	}
	if q.EchoECS && q.HasECS {
		n += 8 + ecsAddrLen(q)
	}
	return n
}

// ecsAddrLen is the length of the address in q's ECS option.
func ecsAddrLen(q *Query) int { return (int(q.ECSSource) + 7) / 8 }

// AppendRR adds a packed record to the additional section of the reply
// starting at start (after any OPT, as a TSIG must be).
func AppendRR(dst []byte, start int, rr []byte) []byte {
	dst = append(dst, rr...)
	r := dst[start:]
	binary.BigEndian.PutUint16(r[10:], binary.BigEndian.Uint16(r[10:])+1)
	return dst
}
