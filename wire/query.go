// Package wire works on DNS messages in their packed form for the hot path:
// parsing a query once without unpacking it, and answering from pre-packed
// responses with only the ID, flags, question spelling and TTLs patched per
// query.
package wire

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// Header flag bits.
const (
	bitQR     = 1 << 15
	maskOp    = 0xf << 11
	bitAA     = 1 << 10
	bitTC     = 1 << 9
	bitRD     = 1 << 8
	bitRA     = 1 << 7
	bitAD     = 1 << 5
	bitCD     = 1 << 4
	headerLen = 12
	optLen    = 11 // our OPT record: root name, fixed fields, no options
)

const (
	typeOPT  = 41
	typeTSIG = 250
)

// MaxUDPSize is the largest UDP reply s3dns sends, and the payload size it
// advertises, to clients and to upstreams: 1232 bytes avoid IP
// fragmentation (DNS Flag Day 2020).
const MaxUDPSize = 1232

// plainUDPSize is the limit for clients without EDNS0 (RFC 1035).
const plainUDPSize = 512

// Problem says what keeps a packet from being answered as an ordinary query.
type Problem uint8

const (
	Fine       Problem = iota
	NotQuery           // shorter than a header, or a response: never answered
	Malformed          // FORMERR
	BadOpcode          // NOTIMP
	BadVersion         // an EDNS version other than 0: BADVERS
)

// Query is a query parsed from its packed form. Name and TSIG alias the packet.
type Query struct {
	ID      uint16
	Flags   uint16
	Name    []byte // the question name in wire form, as asked; nil when no question parsed
	Qtype   uint16
	Qclass  uint16
	HasOPT  bool   // an OPT record parsed: every reply carries one
	UDPSize uint16 // the client's EDNS0 payload size
	DO      bool
	TSIG    []byte // the TSIG record as sent, nil without one
	// AskedKeepalive: the OPT holds an empty edns-tcp-keepalive option.
	AskedKeepalive bool
	// Keepalive, when not 0, is the idle timeout in 100 ms units that
	// replies carry in edns-tcp-keepalive (RFC 7828): the transport sets it
	// for TCP queries that asked.
	Keepalive uint16
	// AskedPadding: the OPT holds a Padding option (RFC 7830). Pad makes
	// replies carry one that fills them to a multiple of PadBlock octets
	// (RFC 8467 §4.1): the transport sets it for encrypted queries that asked.
	AskedPadding, Pad bool
	// HasECS: the OPT holds a well-formed EDNS Client Subnet option (RFC
	// 7871) for family ECSFamily (1: IPv4, 2: IPv6) and ECSSource bits.
	HasECS    bool
	ECSFamily uint16
	ECSSource uint8
	ecsAddr   [16]byte
	// EchoECS makes replies carry the client subnet back with ECSScope as
	// SCOPE PREFIX-LENGTH: set for trusted forwarders only.
	EchoECS  bool
	ECSScope uint8
}

// ECSAddr is the client subnet's address (the bits past ECSSource zero).
func (q *Query) ECSAddr() netip.Addr {
	if q.ECSFamily == 1 {
		return netip.AddrFrom4([4]byte(q.ecsAddr[:4]))
	}
	return netip.AddrFrom16(q.ecsAddr)
}

// Opts are the query bits that select a different answer (cache key).
func (q *Query) Opts() Opts {
	var o Opts
	if q.DO {
		o |= OptDO
	}
	if q.Flags&bitCD != 0 {
		o |= OptCD
	}
	return o
}

// RD reports whether recursion was desired.
func (q *Query) RD() bool { return q.Flags&bitRD != 0 }

// Parse reads a query in one pass and says what, if anything, is wrong with
// it. It allocates nothing. Whatever parsed is filled in even when there is
// a problem, so that an error reply can echo the question and carry an OPT
// (RFC 6891 §6.1.1).
func Parse(b []byte) (q Query, p Problem) {
	if len(b) < headerLen {
		return q, NotQuery
	}
	q.ID = binary.BigEndian.Uint16(b)
	q.Flags = binary.BigEndian.Uint16(b[2:])
	if q.Flags&bitQR != 0 {
		return q, NotQuery
	}
	qd, an := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	ns, ar := binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	p = Fine
	if q.Flags&maskOp != 0 {
		p = BadOpcode
	}
	off := headerLen
	if qd == 1 {
		end, ok := nameEnd(b, off)
		if !ok || end+4 > len(b) {
			return q, worst(p, Malformed)
		}
		q.Name = b[off:end]
		q.Qtype = binary.BigEndian.Uint16(b[end:])
		q.Qclass = binary.BigEndian.Uint16(b[end+2:])
		off = end + 4
	} else {
		// No question or several: FORMERR, but the records are still read
		// so that the reply carries an OPT when the query had one.
		p = worst(p, Malformed)
		for range int(qd) {
			end, ok := skipName(b, off)
			if !ok || end+4 > len(b) {
				return q, p
			}
			off = end + 4
		}
	}
	if q.Flags&bitTC != 0 || an != 0 || ns != 0 && q.Qtype != dns.TypeIXFR {
		p = worst(p, Malformed)
	}
	var ok bool
	// Answer and authority records (an IXFR's SOA) are skipped unread.
	for range int(an) + int(ns) {
		if off, ok = skipRecord(b, off); !ok {
			return q, worst(p, Malformed)
		}
	}
	for i := range int(ar) {
		start := off
		if off, ok = skipRecord(b, off); !ok {
			return q, worst(p, Malformed)
		}
		nameLen, _ := skipName(b, start)
		switch binary.BigEndian.Uint16(b[nameLen:]) {
		case typeOPT:
			p = worst(p, q.parseOPT(b[start:off], nameLen-start))
		case typeTSIG:
			if i != int(ar)-1 {
				p = worst(p, Malformed) // TSIG must be the last record (RFC 8945 §5.1)
			}
			q.TSIG = b[start:off]
		}
	}
	// Bytes after the last record are ignored, as Unbound and BIND do.
	return q, p
}

// parseOPT reads an OPT record (rr, whose owner name is nameLen bytes long).
func (q *Query) parseOPT(rr []byte, nameLen int) Problem {
	if q.HasOPT || nameLen != 1 {
		return Malformed // two OPTs, or one not at the root
	}
	fixed := rr[nameLen:] // type, class (payload size), TTL (ext rcode, version, flags), rdlength
	q.HasOPT = true
	q.UDPSize = binary.BigEndian.Uint16(fixed[2:])
	q.DO = fixed[6]&0x80 != 0
	for opts := fixed[10:]; len(opts) > 0; {
		if len(opts) < 4 || 4+int(binary.BigEndian.Uint16(opts[2:])) > len(opts) {
			return Malformed // an option running past the record
		}
		code, data := binary.BigEndian.Uint16(opts), opts[4:4+int(binary.BigEndian.Uint16(opts[2:]))]
		if !q.optionFine(code, data) {
			return Malformed
		}
		opts = opts[4+len(data):]
	}
	if fixed[5] != 0 {
		return BadVersion
	}
	return Fine
}

// EDNS option codes checked in queries.
const (
	optionECS       = 8  // RFC 7871
	optionCookie    = 10 // RFC 7873
	optionKeepalive = 11 // RFC 7828
	optionPadding   = 12 // RFC 7830
)

// optionFine checks the options whose malformed forms get FORMERR, as BIND
// does: a COOKIE of 8 or 16–40 bytes (RFC 7873 §5.2.2); an ECS option whose
// address holds exactly its source prefix, no more bits, for a known family,
// with scope 0 (RFC 7871 §7.1.1); an edns-tcp-keepalive without a TIMEOUT,
// which only servers send (RFC 7828 §3.2.1). Other options are ignored.
func (q *Query) optionFine(code uint16, data []byte) bool {
	switch code {
	case optionCookie:
		return len(data) == 8 || len(data) >= 16 && len(data) <= 40
	case optionECS:
		if q.HasECS {
			return true // a second client subnet: the first decides, as BIND does
		}
		if !ecsFine(data) {
			return false
		}
		q.HasECS, q.ECSFamily, q.ECSSource = true, binary.BigEndian.Uint16(data), data[2]
		q.ecsAddr = [16]byte{}
		copy(q.ecsAddr[:], data[4:])
		return true
	case optionKeepalive:
		q.AskedKeepalive = true
		return len(data) == 0
	case optionPadding:
		q.AskedPadding = true
	}
	return true
}

func ecsFine(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	family, source, scope, addr := binary.BigEndian.Uint16(data), int(data[2]), data[3], data[4:]
	maxBits := 0
	switch family {
	case 1:
		maxBits = 32
	case 2:
		maxBits = 128
	default:
		return false
	}
	if scope != 0 || source > maxBits || len(addr) != (source+7)/8 {
		return false
	}
	if source%8 != 0 && addr[len(addr)-1]&(0xff>>(source%8)) != 0 {
		return false // bits beyond the source prefix must be zero
	}
	return true
}

// worst keeps the problem that decides the reply: an unknown opcode gets
// NOTIMP whatever its sections hold (a NOTIFY carries an SOA), and a
// malformed packet FORMERR even under an unknown EDNS version.
func worst(a, b Problem) Problem {
	if problemRank[b] > problemRank[a] {
		return b
	}
	return a
}

var problemRank = [...]int{Fine: 0, BadVersion: 1, Malformed: 2, BadOpcode: 3, NotQuery: 4}

// skipRecord returns the offset after the resource record at off.
func skipRecord(b []byte, off int) (int, bool) {
	off, ok := skipName(b, off)
	if !ok || off+10 > len(b) {
		return 0, false
	}
	end := off + 10 + int(binary.BigEndian.Uint16(b[off+8:]))
	return end, end <= len(b)
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

// MaxUDP is the largest UDP reply this client may get: 512 bytes without
// EDNS0, else its payload size within [512, MaxUDPSize].
func (q *Query) MaxUDP() int {
	if !q.HasOPT {
		return plainUDPSize
	}
	return min(max(int(q.UDPSize), plainUDPSize), MaxUDPSize)
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
// letters, digits, '-' and '_', which would need escaping (Presentation
// does those).
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

// Presentation is the dotted form of a wire name, with escapes where needed.
func Presentation(name []byte) string {
	s, _, err := dns.UnpackDomainName(name, 0)
	if err != nil {
		return "."
	}
	return s
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
