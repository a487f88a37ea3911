package wire

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"sync"

	"github.com/miekg/dns"
)

var seed = maphash.MakeSeed()

// packBuffers hold a response while Build measures it; the entry then gets
// an exact copy.
var packBuffers = sync.Pool{New: func() any { b := make([]byte, 1024); return &b }}

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
// in lower case, the records, no OPT. It is immutable once built, and small:
// a cache holds a million of them.
type Entry struct {
	// buf holds the packed response, then the 2-byte offsets of the TTL
	// fields that count down: one allocation per entry.
	buf     []byte
	wireLen uint16
	nameEnd uint16
	Qtype   uint16
	Qclass  uint16
	DO      bool
	Stored  int64 // unix nanoseconds when the TTLs were as packed
	Expires int64 // fresh until then
}

// Name is the lower-case wire qname.
func (e *Entry) Name() []byte { return e.buf[12:e.nameEnd] }

// Matches reports whether the entry answers this question (lname in lower case).
func (e *Entry) Matches(lname []byte, qtype, qclass uint16, do bool) bool {
	return e.Qtype == qtype && e.Qclass == qclass && e.DO == do && string(e.Name()) == string(lname)
}

// FreshFor reports whether the entry answers this question and is still
// fresh at now: what every fast-path lookup asks of what it found.
func (e *Entry) FreshFor(lname []byte, qtype, qclass uint16, do bool, now int64) bool {
	return now < e.Expires && e.Matches(lname, qtype, qclass, do)
}

// Build packs resp, whose question is in lower case and whose owner names
// equal to it are spelled the same (so that compression points them at the
// question, which is patched per query). The TTLs of the first fixed
// answer records stay as they are; all others count down from stored.
func Build(resp *dns.Msg, fixed int, stored, expires int64) (Entry, error) {
	if len(resp.Question) != 1 || resp.Rcode > 0xf {
		return Entry{}, errors.New("not a cacheable response")
	}
	m := *resp
	m.Id = 0
	// Per query these come from the request (Append).
	m.RecursionDesired, m.CheckingDisabled = false, false
	m.Compress = true
	m.Extra = WithoutOPT(m.Extra)
	sp := packBuffers.Get().(*[]byte)
	defer packBuffers.Put(sp)
	b, err := m.PackBuffer(*sp)
	if err != nil {
		return Entry{}, err
	}
	if len(b) > 0xffff {
		return Entry{}, errors.New("response too long")
	}
	ttls, err := ttlOffsets(b)
	if err != nil {
		return Entry{}, err
	}
	ttls = ttls[min(fixed, len(ttls)):]
	buf := make([]byte, len(b), len(b)+2*len(ttls))
	copy(buf, b)
	for _, off := range ttls {
		buf = binary.BigEndian.AppendUint16(buf, off)
	}
	end, _ := nameEnd(b, 12)
	q := resp.Question[0]
	return Entry{buf: buf, wireLen: uint16(len(b)), nameEnd: uint16(end), Qtype: q.Qtype, Qclass: q.Qclass,
		Stored: stored, Expires: expires}, nil
}

// WithoutOPT returns rrs without OPT records (in a new slice): the client
// always gets s3dns's own OPT, never an upstream's.
func WithoutOPT(rrs []dns.RR) []dns.RR {
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
	dst = append(dst, e.buf[:e.wireLen]...)
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
		for i := int(e.wireLen); i+1 < len(e.buf); i += 2 {
			off := binary.BigEndian.Uint16(e.buf[i:])
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
	q := Query{Name: e.Name(), Qtype: e.Qtype, Qclass: e.Qclass, Flags: bitAD}
	m := new(dns.Msg)
	return m, m.Unpack(e.Append(make([]byte, 0, e.wireLen), &q, now))
}
