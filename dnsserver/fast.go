package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// scratch is one reader's reusable buffers for the fast path.
type scratch struct {
	in, lname, dotted, out []byte
}

func newScratch() *scratch {
	return &scratch{in: make([]byte, 0, 512), lname: make([]byte, 0, 256), dotted: make([]byte, 0, 256), out: make([]byte, 0, 4096)}
}

// fastResult describes a query answered on the fast path.
type fastResult struct {
	resp   []byte
	action string
	rcode  int
	qtype  uint16
	// rateCounted is set once the query took a token from its client's
	// rate limit, answered or not: the full path must not take another.
	rateCounted bool
}

// fastAnswer answers the common query — one question, plain EDNS0 — from
// packed answers (an endpoint answer or a cache hit), refusing clients
// outside the ACL or over their rate, all without unpacking or allocating.
// ok is false when the full path must answer: a miss, anything unusual, an
// answer too big for the client's UDP size.
func (s *Server) fastAnswer(st *State, pkt []byte, client netip.Addr, maxSize int, sc *scratch) (fastResult, bool) {
	if st.hits == nil || s.loop.probing.Load() {
		return fastResult{}, false
	}
	q, ok := wire.ParseQuery(pkt)
	if !ok || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR || q.Qtype == dns.TypeOPT {
		return fastResult{}, false
	}
	res := fastResult{qtype: q.Qtype, rcode: dns.RcodeRefused}
	if !st.allowed(client) {
		res.action = ActionRefused
	} else if !st.limiter.allow(client) {
		res.action = ActionLimited
	}
	if res.action != "" {
		res.resp = wire.AppendError(sc.out[:0], &q, dns.RcodeRefused)
		return res, true
	}
	miss := fastResult{rateCounted: true}
	sc.lname = wire.LowerName(sc.lname[:0], q.Name)
	matched := false
	if q.Qclass == dns.ClassINET {
		var printable bool
		if sc.dotted, printable = wire.AppendPresentation(sc.dotted[:0], sc.lname); !printable {
			return miss, false
		}
		// The string lives only for this call; Match keeps nothing of it.
		_, matched = st.Matcher.Match(unsafe.String(unsafe.SliceData(sc.dotted), len(sc.dotted)))
	}
	key := wire.Key(sc.lname, q.Qtype, q.Qclass, q.DO)
	now := st.nowNano()
	var e *wire.Entry
	if matched {
		e, res.action = st.endpointHit(key, sc.lname, &q, now), ActionEndpoint
	} else {
		e, res.action = st.hits.Hit(key, sc.lname, q.Qtype, q.Qclass, q.DO, now), ActionForward
	}
	if e == nil {
		return miss, false
	}
	res.resp = e.Append(sc.out[:0], &q, now)
	if maxSize > 0 && len(res.resp) > q.MaxUDP(maxSize) {
		return miss, false // needs truncation: the full path does it
	}
	res.rcode = int(binary.BigEndian.Uint16(res.resp[2:]) & 0xf)
	return res, true
}
