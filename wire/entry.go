package wire

import (
	"encoding/binary"
	"errors"
	"hash/maphash"

	"github.com/miekg/dns"
)

var seed = maphash.MakeSeed()

// Key hashes a lower-case wire name with the rest of a cache key.
func Key(lname []byte, qtype, qclass uint16, do bool) uint64 {
	h := maphash.Bytes(seed, lname)
	x := uint64(qtype)<<17 | uint64(qclass)<<1
	if do {
		x |= 1
	}
	return h ^ (x * 0x9e3779b97f4a7c15)
}

// Entry is a response kept in packed form: header with ID 0, the question
// in lower case, the records, no OPT. It is immutable once built.
type Entry struct {
	Name    []byte // lower-case wire qname
	Qtype   uint16
	Qclass  uint16
	DO      bool
	Wire    []byte
	TTLs    []uint16 // offsets of the TTL fields that count down
	Stored  int64    // unix nanoseconds when the TTLs were as in Wire
	Expires int64    // fresh until then
}

// Matches reports whether the entry answers this question (lname in lower case).
func (e *Entry) Matches(lname []byte, qtype, qclass uint16, do bool) bool {
	return e.Qtype == qtype && e.Qclass == qclass && e.DO == do && string(e.Name) == string(lname)
}

// Build packs resp, whose question is in lower case and whose owner names
// equal to it are spelled the same (so that compression points them at the
// question, which is patched per query). The TTLs of the first fixed
// answer records stay as they are; all others count down from stored.
func Build(resp *dns.Msg, fixed int, stored, expires int64) (*Entry, error) {
	if len(resp.Question) != 1 || resp.Rcode > 0xf {
		return nil, errors.New("not a cacheable response")
	}
	m := *resp
	m.Id = 0
	// Per query these come from the request (Append).
	m.RecursionDesired, m.CheckingDisabled = false, false
	m.Compress = true
	m.Extra = withoutOPT(m.Extra)
	b, err := m.Pack()
	if err != nil {
		return nil, err
	}
	q := resp.Question[0]
	nameLen, _ := nameEnd(b, 12)
	e := &Entry{Name: b[12:nameLen], Qtype: q.Qtype, Qclass: q.Qclass, Wire: b, Stored: stored, Expires: expires}
	ttls, err := ttlOffsets(b)
	if err != nil {
		return nil, err
	}
	if fixed > len(ttls) {
		fixed = len(ttls)
	}
	e.TTLs = ttls[fixed:]
	return e, nil
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// ttlOffsets walks a packed message and returns the offset of every
// record's TTL, in order.
func ttlOffsets(b []byte) ([]uint16, error) {
	counts := int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	off, ok := skipName(b, 12)
	if !ok {
		return nil, errors.New("bad question")
	}
	off += 4
	out := make([]uint16, 0, counts)
	for range counts {
		if off, ok = skipName(b, off); !ok || off+10 > len(b) {
			return nil, errors.New("bad record")
		}
		out = append(out, uint16(off+4))
		off += 10 + int(binary.BigEndian.Uint16(b[off+8:]))
	}
	if off != len(b) {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

// skipName returns the offset after a possibly compressed name.
func skipName(b []byte, off int) (int, bool) {
	for {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xc0 == 0xc0:
			return off + 2, off+2 <= len(b)
		case l > 63:
			return 0, false
		}
		off += l + 1
	}
}

// optRR is our EDNS0 OPT: root, type 41, 1232-byte payload, version 0, no options.
var optRR = [11]byte{0, 0, typeOPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0}

// Append writes the response to q into dst and returns it: q's ID, its RD
// and CD bits, its question spelling, TTLs counted down to now, and an OPT
// (with DO echoed) when q had one.
func (e *Entry) Append(dst []byte, q *Query, now int64) []byte {
	start := len(dst)
	dst = append(dst, e.Wire...)
	r := dst[start:]
	binary.BigEndian.PutUint16(r, q.ID)
	flags := binary.BigEndian.Uint16(r[2:]) | q.Flags&(bitRD|bitCD)
	if flags&bitAD != 0 && !q.DO && q.Flags&bitAD == 0 {
		flags &^= bitAD
	}
	binary.BigEndian.PutUint16(r[2:], flags)
	copy(r[12:], q.Name)
	if elapsed := now - e.Stored; elapsed >= 1e9 {
		secs := uint32(elapsed / 1e9)
		for _, off := range e.TTLs {
			ttl := binary.BigEndian.Uint32(r[off:])
			binary.BigEndian.PutUint32(r[off:], ttl-min(ttl, secs))
		}
	}
	if q.HasOPT {
		dst = append(dst, optRR[:]...)
		if q.DO {
			dst[len(dst)-4] = 0x80
		}
		r = dst[start:]
		binary.BigEndian.PutUint16(r[10:], binary.BigEndian.Uint16(r[10:])+1)
	}
	return dst
}

// Msg unpacks the entry as it stands at now, for the full path.
func (e *Entry) Msg(now int64) (*dns.Msg, error) {
	q := Query{Name: e.Name, Qtype: e.Qtype, Qclass: e.Qclass, Flags: bitAD}
	m := new(dns.Msg)
	return m, m.Unpack(e.Append(make([]byte, 0, len(e.Wire)), &q, now))
}
