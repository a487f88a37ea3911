// Package wire works on DNS messages in their packed form for the hot path:
// parsing the common query without unpacking it, and answering from
// pre-packed responses with only the ID, flags, question spelling and TTLs
// patched per query.
package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Header flag bits.
const (
	bitQR = 1 << 15
	bitAA = 1 << 10
	bitTC = 1 << 9
	bitRD = 1 << 8
	bitRA = 1 << 7
	bitAD = 1 << 5
	bitCD = 1 << 4
)

const typeOPT = 41

// Query is a query parsed from its packed form. Name aliases the packet.
type Query struct {
	ID      uint16
	Flags   uint16
	Name    []byte // the question name in wire form, as asked
	Qtype   uint16
	Qclass  uint16
	HasOPT  bool
	UDPSize uint16 // the client's EDNS0 payload size
	DO      bool
}

// ParseQuery parses the kind of query the fast path answers: not a
// response, opcode QUERY, one question with an uncompressed name, nothing
// in the answer and authority sections, and at most an EDNS0 version 0 OPT
// at the root in the additional section. ok is false for anything else,
// which the full path then handles (and rejects where it must).
func ParseQuery(b []byte) (q Query, ok bool) {
	if len(b) < 12 {
		return q, false
	}
	q.ID = binary.BigEndian.Uint16(b)
	q.Flags = binary.BigEndian.Uint16(b[2:])
	if q.Flags&bitQR != 0 || q.Flags&0x7800 != 0 || q.Flags&bitTC != 0 {
		return q, false
	}
	if binary.BigEndian.Uint16(b[4:]) != 1 || binary.BigEndian.Uint16(b[6:]) != 0 || binary.BigEndian.Uint16(b[8:]) != 0 {
		return q, false
	}
	arcount := binary.BigEndian.Uint16(b[10:])
	if arcount > 1 {
		return q, false
	}
	off, ok := nameEnd(b, 12)
	if !ok || off+4 > len(b) {
		return q, false
	}
	q.Name = b[12:off]
	q.Qtype = binary.BigEndian.Uint16(b[off:])
	q.Qclass = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	if arcount == 1 {
		// OPT: root name, type 41, class = payload size, TTL = extended
		// rcode, version, flags; then options, which are never passed on.
		if off+11 > len(b) || b[off] != 0 || binary.BigEndian.Uint16(b[off+1:]) != typeOPT || b[off+5] != 0 || b[off+6] != 0 {
			return q, false
		}
		q.HasOPT = true
		q.UDPSize = binary.BigEndian.Uint16(b[off+3:])
		q.DO = b[off+7]&0x80 != 0
		off += 11 + int(binary.BigEndian.Uint16(b[off+9:]))
	}
	return q, off == len(b)
}

// nameEnd returns the offset after an uncompressed name starting at off.
func nameEnd(b []byte, off int) (int, bool) {
	total := 0
	for {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		if l == 0 {
			return off + 1, total+1 <= 255
		}
		if l > 63 {
			return 0, false // a compression pointer or a reserved label type
		}
		total += l + 1
		off += l + 1
		if total > 254 {
			return 0, false
		}
	}
}

// MaxUDP is the largest UDP reply a client may get: 512 without EDNS0, else
// its payload size within [512, limit].
func (q *Query) MaxUDP(limit int) int {
	if !q.HasOPT {
		return 512
	}
	return min(max(int(q.UDPSize), 512), limit)
}

// LowerName appends name with ASCII letters in lower case to dst.
func LowerName(dst, name []byte) []byte {
	for _, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendPresentation appends the dotted form of a lower-case wire name
// ("a.example.") to dst. ok is false for a name with characters other than
// letters, digits, '-' and '_', which would need escaping: the full path
// handles those.
func AppendPresentation(dst, lname []byte) ([]byte, bool) {
	if len(lname) == 1 {
		return append(dst, '.'), true
	}
	for off := 0; off < len(lname) && lname[off] != 0; {
		l := int(lname[off])
		for _, c := range lname[off+1 : off+1+l] {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return dst, false
			}
		}
		dst = append(dst, lname[off+1:off+1+l]...)
		dst = append(dst, '.')
		off += l + 1
	}
	return dst, true
}

// AppendError writes a reply to q with no records and rcode (below 16).
func AppendError(dst []byte, q *Query, rcode int) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, q.ID)
	dst = binary.BigEndian.AppendUint16(dst, bitQR|bitRA|q.Flags&(bitRD|bitCD)|uint16(rcode&0xf))
	dst = append(dst, 0, 1, 0, 0, 0, 0, 0, 0)
	dst = append(dst, q.Name...)
	dst = binary.BigEndian.AppendUint16(dst, q.Qtype)
	dst = binary.BigEndian.AppendUint16(dst, q.Qclass)
	if q.HasOPT {
		dst = append(dst, optRR[:]...)
		if q.DO {
			dst[len(dst)-4] = 0x80
		}
		dst[start+11] = 1
	}
	return dst
}

// PackName packs a presentation name into lower-case wire form.
func PackName(name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	return LowerName(buf[:0], buf[:n]), nil
}
