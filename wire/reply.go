package wire

import (
	"encoding/binary"
	"slices"

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
// 3225), the upper bits of an extended rcode, edns-tcp-keepalive when the
// transport set q.Keepalive, and last, when it set q.Pad, the padding that
// makes the reply a multiple of PadBlock octets.
func appendOPT(dst []byte, start int, q *Query, rcode int) []byte {
	if !q.HasOPT {
		return dst
	}
	var flags byte
	if q.DO {
		flags = 0x80
	}
	dst = append(dst, 0, 0, typeOPT, MaxUDPSize>>8, MaxUDPSize&0xff, byte(rcode>>4), 0, flags, 0, 0, 0)
	rdlength := len(dst) - 2
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
	if q.Pad {
		dst = appendPadding(dst, len(dst)-start)
	}
	binary.BigEndian.PutUint16(dst[rdlength:], uint16(len(dst)-rdlength-2))
	r := dst[start:]
	binary.BigEndian.PutUint16(r[10:], binary.BigEndian.Uint16(r[10:])+1)
	return dst
}

// PadBlock is the block replies to padded encrypted queries are padded to
// (RFC 8467 §4.1, the Block-Length Padding it recommends for responders).
const PadBlock = 468

// paddingHeaderLen is a Padding option's code and length.
const paddingHeaderLen = 4

// appendPadding adds a Padding option (zeros, RFC 7830) to a reply of n
// octets so far, to the next multiple of PadBlock: never past 65535.
func appendPadding(dst []byte, n int) []byte {
	if n+paddingHeaderLen > dns.MaxMsgSize {
		return dst // not even an empty option fits
	}
	total := (n + paddingHeaderLen + PadBlock - 1) / PadBlock * PadBlock
	if total > dns.MaxMsgSize {
		total = n + paddingHeaderLen // no room to fill the block: an empty option says it was heard
	}
	pad := total - n - paddingHeaderLen
	dst = append(dst, 0, optionPadding, byte(pad>>8), byte(pad))
	n = len(dst)
	dst = slices.Grow(dst, pad)[:n+pad] // within the buffer's room: no allocation
	clear(dst[n:])
	return dst
}

// keepaliveLen is the length of an edns-tcp-keepalive option with its TIMEOUT.
const keepaliveLen = 6

// optSize is the length of the OPT record appendOPT adds for q, padding
// aside (which only streams carry, so no size limit sees it).
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
