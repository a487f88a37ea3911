package wire

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

var seed = maphash.MakeSeed()

// packBuffers hold a response while Build measures it; the entry then gets
// an exact copy.
var packBuffers = sync.Pool{New: func() any { b := make([]byte, 1024); return &b }}

// Opts are the query bits that change the answer: DO (DNSSEC records wanted)
// and CD (checking disabled: RFC 6840 §5.9 keeps such answers apart).
type Opts uint8

const (
	OptDO Opts = 1 << iota
	OptCD
)

// Key hashes a lower-case wire name with the rest of a cache key.
func Key(lname []byte, qtype, qclass uint16, o Opts) uint64 {
	h := maphash.Bytes(seed, lname)
	x := uint64(qtype)<<18 | uint64(qclass)<<2 | uint64(o)
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
	arStart uint16 // where the additional section starts
	qtype   uint16
	qclass  uint16
	opts    Opts
	ttlCap  uint32 // not 0: TTLs that count down never show more than this
	stored  int64  // clock nanoseconds when the TTLs were as packed
	expires int64  // fresh until then
}

// Name is the lower-case wire qname.
func (e *Entry) Name() []byte { return e.buf[headerLen:e.nameEnd] }

// Expires is when the entry stops being fresh.
func (e *Entry) Expires() int64 { return e.expires }

// Qtype, Qclass and Opts are the question the entry answers.
func (e *Entry) Qtype() uint16  { return e.qtype }
func (e *Entry) Qclass() uint16 { return e.qclass }
func (e *Entry) Opts() Opts     { return e.opts }

// Rcode is the response code of the packed answer.
func (e *Entry) Rcode() int { return int(binary.BigEndian.Uint16(e.buf[2:]) & 0xf) }

// Matches reports whether the entry answers this question (lname in lower case).
func (e *Entry) Matches(lname []byte, qtype, qclass uint16, o Opts) bool {
	return e.qtype == qtype && e.qclass == qclass && e.opts == o && string(e.Name()) == string(lname)
}

// FreshFor reports whether the entry answers this question and is still
// fresh at now: what every fast-path lookup asks of what it found.
func (e *Entry) FreshFor(lname []byte, qtype, qclass uint16, o Opts, now int64) bool {
	return now < e.expires && e.Matches(lname, qtype, qclass, o)
}

// Aging says how the TTLs of a packed answer change as it ages. The zero
// value: every TTL counts down.
type Aging struct {
	// Fixed picks the records whose TTL stays as packed: those s3dns
	// synthesized (an endpoint's CNAME, SOA and static addresses), which a
	// fresh synthesis would give the same TTL at any time. nil: none.
	Fixed func(dns.RR) bool
	// Cap, when not 0, bounds the TTLs that count down: an alias record
	// counts down with its target and never shows more than the endpoint's
	// TTL, as a fresh synthesis would give it.
	Cap uint32
}

// Build packs resp for the questions with opts. The TTLs of the records
// aging.Fixed picks stay as they are; all others count down from stored.
//
// Only owner names equal to the question (in any case) point at it, so that
// they take the asker's spelling when Append patches the question in; every
// other name keeps its own spelling, because the question is packed under a
// stand-in that no real name matches. Build changes resp's owner names while
// it packs (and leaves those equal to the question spelled as the question),
// so resp must not be shared yet.
func Build(resp *dns.Msg, aging Aging, opts Opts, stored, expires int64) (Entry, error) {
	if len(resp.Question) != 1 || resp.Rcode > 0xf {
		return Entry{}, errors.New("not a cacheable response")
	}
	q := resp.Question[0]
	var nameBuf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(q.Name), nameBuf[:], 0, nil, false)
	if err != nil {
		return Entry{}, err
	}
	lname := LowerName(nameBuf[:0], nameBuf[:n])
	standIn := standInName(lname)
	m := *resp
	m.Id = 0
	// Per query these come from the request (Append).
	m.RecursionDesired, m.CheckingDisabled = false, false
	m.Compress = true
	m.Question = []dns.Question{{Name: standIn, Qtype: q.Qtype, Qclass: q.Qclass}}
	m.Extra = WithoutOPT(m.Extra)
	respell(&m, q.Name, standIn)
	sp := packBuffers.Get().(*[]byte)
	defer packBuffers.Put(sp)
	b, err := m.PackBuffer(*sp)
	respell(&m, standIn, q.Name)
	if err != nil {
		return Entry{}, err
	}
	if len(b) > 0xffff {
		return Entry{}, errors.New("response too long")
	}
	copy(b[headerLen:], lname)
	ttls, arStart, err := ttlOffsets(nil, b)
	if err != nil {
		return Entry{}, err
	}
	if aging.Fixed != nil {
		ttls = countingDown(ttls, &m, aging.Fixed)
	}
	buf := make([]byte, len(b), len(b)+2*len(ttls))
	copy(buf, b)
	for _, off := range ttls {
		buf = binary.BigEndian.AppendUint16(buf, off)
	}
	return Entry{buf: buf, wireLen: uint16(len(b)), nameEnd: uint16(headerLen + len(lname)), arStart: uint16(arStart),
		qtype: q.Qtype, qclass: q.Qclass, opts: opts, ttlCap: aging.Cap, stored: stored, expires: expires}, nil
}

// countingDown keeps the TTL offsets of the records fixed does not pick;
// ttls are in the order of m's records (m holds no OPT).
func countingDown(ttls []uint16, m *dns.Msg, fixed func(dns.RR) bool) []uint16 {
	out, i := ttls[:0], 0
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if i < len(ttls) && !fixed(rr) {
				out = append(out, ttls[i])
			}
			i++
		}
	}
	return out
}

// standInName is a name shaped like lname (same label lengths) made of
// bytes 0xff, which no real name in an answer holds.
func standInName(lname []byte) string {
	if len(lname) <= 1 {
		return "."
	}
	b := make([]byte, 0, 4*len(lname))
	for off := 0; off < len(lname) && lname[off] != 0; off += int(lname[off]) + 1 {
		for range lname[off] {
			b = append(b, `\255`...)
		}
		b = append(b, '.')
	}
	return string(b)
}

// respell gives the owner names equal to from (in any case) the name to.
func respell(m *dns.Msg, from, to string) {
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if h := rr.Header(); strings.EqualFold(h.Name, from) {
				h.Name = to
			}
		}
	}
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

// ttlOffsets walks a packed message and appends to dst the offset of every
// record's TTL, in order; it also says where the additional section starts.
func ttlOffsets(dst []uint16, b []byte) (ttls []uint16, arStart int, err error) {
	an, ns, ar := int(binary.BigEndian.Uint16(b[6:])), int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))
	off, ok := skipName(b, headerLen)
	if !ok {
		return nil, 0, errors.New("bad question")
	}
	off += 4
	arStart = off
	out := slices.Grow(dst, an+ns+ar)
	for i := range an + ns + ar {
		if i == an+ns {
			arStart = off
		}
		if off, ok = skipName(b, off); !ok || off+10 > len(b) {
			return nil, 0, errors.New("bad record")
		}
		out = append(out, uint16(off+4))
		off += 10 + int(binary.BigEndian.Uint16(b[off+8:]))
	}
	if ar == 0 {
		arStart = off
	}
	if off != len(b) {
		return nil, 0, errors.New("trailing bytes")
	}
	return out, arStart, nil
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

// Append writes the response to q into dst and returns it: q's ID, its RD
// and CD bits, its question spelling, TTLs counted down to now, and an OPT
// (with DO echoed) when q had one. A reply longer than limit (0: none)
// loses its additional section, and when that is not enough its answer and
// authority too, with TC set (RFC 2181 §9).
func (e *Entry) Append(dst []byte, q *Query, now int64, limit int) []byte {
	start := len(dst)
	dst = append(dst, e.buf[:e.wireLen]...)
	r := dst[start:]
	binary.BigEndian.PutUint16(r, q.ID)
	flags := binary.BigEndian.Uint16(r[2:]) | q.Flags&(bitRD|bitCD)
	if flags&bitAD != 0 && !q.DO && q.Flags&bitAD == 0 {
		flags &^= bitAD
	}
	copy(r[headerLen:], q.Name)
	if elapsed := now - e.stored; elapsed >= 1e9 || e.ttlCap != 0 {
		e.age(r, uint32(max(elapsed, 0)/1e9))
	}
	extra := optSize(q)
	if limit > 0 && len(r)+extra > limit {
		if int(e.arStart)+extra <= limit {
			dst = dst[:start+int(e.arStart)]
			binary.BigEndian.PutUint16(r[10:], 0)
		} else {
			dst = dst[:start+int(e.nameEnd)+4]
			clear(r[6:12])
			flags |= bitTC
		}
	}
	binary.BigEndian.PutUint16(r[2:], flags)
	return appendOPT(dst, start, q, 0)
}

// age counts the TTLs of r (a copy of the entry) down by secs, within the cap.
func (e *Entry) age(r []byte, secs uint32) {
	for i := int(e.wireLen); i+1 < len(e.buf); i += 2 {
		off := binary.BigEndian.Uint16(e.buf[i:])
		ttl := binary.BigEndian.Uint32(r[off:])
		ttl -= min(ttl, secs)
		if e.ttlCap != 0 {
			ttl = min(ttl, e.ttlCap)
		}
		binary.BigEndian.PutUint32(r[off:], ttl)
	}
}

// Msg unpacks the entry as it stands at now, for the full path.
func (e *Entry) Msg(now int64) (*dns.Msg, error) {
	q := Query{Name: e.Name(), Qtype: e.qtype, Qclass: e.qclass, Flags: bitAD}
	m := new(dns.Msg)
	return m, m.Unpack(e.Append(make([]byte, 0, e.wireLen), &q, now, 0))
}

// MinTTL is the smallest TTL of a packed message's records, OPT aside
// (RFC 8484 §5.1: a DoH reply's freshness); 0 for one without any, or one
// that does not parse.
func MinTTL(b []byte) uint32 {
	if len(b) < headerLen {
		return 0
	}
	var room [32]uint16 // on the stack: every DoH reply asks this
	ttls, _, err := ttlOffsets(room[:0], b)
	if err != nil {
		return 0
	}
	least, found := uint32(0), false
	for _, off := range ttls {
		// The TYPE sits 4 bytes before the TTL: OPT's TTL field is flags.
		if binary.BigEndian.Uint16(b[off-4:]) == typeOPT {
			continue
		}
		if ttl := binary.BigEndian.Uint32(b[off:]); !found || ttl < least {
			least, found = ttl, true
		}
	}
	return least
}
