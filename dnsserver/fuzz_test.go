package dnsserver

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/wire"
)

// flakyUpstream answers in memory (dnstest.MemoryUpstream) except for names
// hashing to one third, which fail: both paths of the flow get exercised.
// Every answer also carries records for another name, which no reply may
// pass on (answer scrubbing).
type flakyUpstream struct{}

func (flakyUpstream) Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, string, error) {
	h := fnv.New32a()
	h.Write([]byte(q.Question[0].Name))
	if h.Sum32()%3 == 0 {
		return nil, "", errors.New("stub failure")
	}
	m, upstream, err := dnstest.MemoryUpstream{}.Exchange(ctx, q)
	if err == nil {
		m.Answer = append(m.Answer, plantedA)
		m.Ns = append(m.Ns, plantedNS)
		m.Extra = append(m.Extra, plantedA)
	}
	return m, upstream, err
}

const plantedName = "victim.test."

var (
	plantedA  = &dns.A{Hdr: dns.RR_Header{Name: plantedName, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: []byte{203, 0, 113, 66}}
	plantedNS = &dns.NS{Hdr: dns.RR_Header{Name: plantedName, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600}, Ns: plantedName}
)

// checkScrubbed fails the test when a reply carries a planted record.
func checkScrubbed(t *testing.T, m *dns.Msg) {
	t.Helper()
	for _, rr := range append(append(m.Answer, m.Ns...), m.Extra...) {
		if rr.Header().Name == plantedName {
			t.Fatalf("a planted record reached the client: %v", rr)
		}
	}
}

var fuzzClient = netip.MustParseAddr("127.0.0.9")

// fuzzClients are a client in no site and one in each site of the fuzz
// server's configuration.
var fuzzClients = []netip.Addr{fuzzClient, netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")}

// fuzzServer serves a cname endpoint (eu-west-2) and an alias endpoint for
// every bucket (us-east-1) in front of a real cache over flakyUpstream, on
// a clock that stands still.
func fuzzServer(t testing.TB) *Server {
	s, _, _ := fuzzServerWithClock(t)
	return s
}

// fuzzServerWithClock is fuzzServer with its clock, as the test moves it
// and as the cache and endpoint answers read it.
func fuzzServerWithClock(t testing.TB) (*Server, *dnstest.Clock, *wire.Clock) {
	ep := model.Endpoint{Name: "s3-london", Region: "eu-west-2", Hostname: "vpce-1.s3.eu-west-2.vpce.amazonaws.com.",
		ZonalHostnames: map[string]string{"eu-west-2a": "vpce-1-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com."},
		Buckets:        []string{"myspecificbucket", "logs-*"}, AccessPoints: []string{"*"}, Control: true,
		Answer: model.AnswerCNAME, OnUnresolved: model.UnresolvedCNAME, TTL: 60e9}
	alias := ep
	alias.Name, alias.Region, alias.Answer, alias.Buckets = "s3-virginia", "us-east-1", model.AnswerAlias, []string{"*"}
	cfg := &model.Config{UpstreamTimeout: 1e9, Endpoints: []model.Endpoint{ep, alias},
		Cache: model.Cache{MaxEntries: 1000, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour},
		// fuzzClients[1..3] are in these sites; fuzzClient is a forwarder
		// whose client subnet (an ECS option the fuzzer writes) decides.
		SitesTrustECS: []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")},
		Sites: []model.Site{
			{Name: "zoned", Clients: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Zone: "eu-west-2a"},
			{Name: "branch", Clients: []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")},
				Endpoints: []model.SiteEndpoint{{Name: "s3-london", Buckets: []string{"logs-*"}}}},
			{Name: "dr", Clients: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")}, Public: true},
		}}
	cfg.Access.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	clock := dnstest.NewClock()
	wclock := wire.NewClock(clock.Now)
	c := cache.New(cache.Config{MaxEntries: 1000, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour, Clock: wclock}, flakyUpstream{})
	return New(NewState(cfg, c, nil, nil), Options{}), clock, wclock
}

// freshFull answers pkt on the full path of a new State that shares st's
// cache but holds no packed endpoint answers: what a fresh synthesis gives.
func freshFull(s *Server, clock *wire.Clock, pkt []byte, proto metrics.Proto, client netip.Addr) []byte {
	st := s.State()
	fresh := NewState(st.Config, st.Cache, nil, nil)
	sc := newScratch()
	q := query{origin: origin{proto: proto, client: client, start: time.Now()}}
	if resp, done := s.serveFast(fresh, &q, pkt, nil, sc); done {
		return resp // a forwarded answer the cache still holds
	}
	var resp []byte
	s.serveFull(fresh, s.detach(fresh, &q), func(b []byte) error { resp = bytes.Clone(b); return nil })
	return resp
}

// exchange runs one packet through the flow as a transport does, the full
// path synchronously, and returns the reply (nil: none) and whether the
// fast path gave it.
func exchange(s *Server, pkt []byte, proto metrics.Proto, client netip.Addr) (resp []byte, fast bool) {
	st, sc := s.State(), newScratch()
	q := query{origin: origin{proto: proto, client: client, start: time.Now()}}
	if resp, done := s.serveFast(st, &q, pkt, nil, sc); done {
		return resp, true
	}
	s.serveFull(st, s.detach(st, &q), func(b []byte) error { resp = bytes.Clone(b); return nil })
	return resp, false
}

// FuzzHandler feeds raw bytes through the whole flow and checks that no
// input panics and that every reply is one well-formed message for this
// query: its ID, its question, an OPT exactly when its OPT parsed, within
// its UDP size.
func FuzzHandler(f *testing.F) {
	for _, q := range []*dns.Msg{
		question(listed, dns.TypeA), question(unlisted, dns.TypeAAAA),
		withEDNS(question("MyBucket.s3.us-east-1.amazonaws.com.", dns.TypeMX), 4096, true),
		question("x-123456789012.s3-accesspoint.eu-west-2.amazonaws.com.", dns.TypeTXT),
	} {
		b, _ := q.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte, overTCP bool) {
		proto := metrics.UDP
		if overTCP {
			proto = metrics.TCP
		}
		for range 2 { // a miss, then (maybe) a hit
			resp, _ := exchange(s, data, proto, fuzzClient)
			checkReply(t, data, resp, proto)
		}
	})
}

func checkReply(t *testing.T, data, resp []byte, proto metrics.Proto) {
	t.Helper()
	req, problem := wire.Parse(data)
	if resp == nil {
		if problem != wire.NotQuery && req.Name != nil {
			t.Fatalf("no reply to a query whose question parsed")
		}
		return
	}
	var m dns.Msg
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	if m.Id != req.ID || !m.Response {
		t.Fatalf("reply header %v for id %d", m.MsgHdr, req.ID)
	}
	if req.Name != nil && (len(m.Question) != 1 || !bytes.Equal(resp[12:12+len(req.Name)], req.Name)) {
		t.Fatalf("question not echoed byte for byte: %v", &m)
	}
	if (m.IsEdns0() != nil) != req.HasOPT {
		t.Fatalf("OPT in the reply %v, in the query %v", m.IsEdns0() != nil, req.HasOPT)
	}
	if proto == metrics.UDP && len(resp) > req.MaxUDP() {
		t.Fatalf("UDP reply of %d bytes for a limit of %d", len(resp), req.MaxUDP())
	}
	checkScrubbed(t, &m)
}

// fuzzNames are the kinds of name the two speeds must agree on.
var fuzzNames = []string{listed, unlisted, "logs-2024.s3.eu-west-2.amazonaws.com.", "any.s3.us-east-1.amazonaws.com.",
	"s3.us-east-1.amazonaws.com.", "ap-123456789012.s3-accesspoint.eu-west-2.amazonaws.com.",
	"s3-control.eu-west-2.amazonaws.com.", "www.example.com.", "sub.www.example.com.", "x.s3-fips.eu-west-2.amazonaws.com."}

var fuzzTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypePTR, dns.TypeSOA,
	dns.TypeSRV, dns.TypeTXT, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeDS, dns.TypeDNSKEY, dns.TypeCAA, dns.TypeANY, 65280}

// FuzzFastMatchesFull is the differential test of the two speeds: a query
// is answered by the full path (which stores its answer packed), then the
// same query by the fast path; the replies must be byte-identical (the
// clock stands still, so no TTL has counted down). Then the clock moves on
// by age seconds, and the fast path's reply must be byte-identical to a
// fresh synthesis at that moment (TTLs counted down the same way on both
// speeds: alias answers included). Malformed EDNS options must get FORMERR
// on both, and no reply may carry the records the upstream planted.
func FuzzFastMatchesFull(f *testing.F) {
	f.Add(uint8(0), uint64(0), uint8(0), uint8(0), uint16(1232), []byte(nil), uint16(0), uint8(0))
	f.Add(uint8(1), uint64(0b1010), uint8(1), uint8(0b0111), uint16(512), []byte{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}, uint16(30), uint8(0))
	f.Add(uint8(3), uint64(0xffff), uint8(14), uint8(0b1101), uint16(4096), []byte{0, 12, 0, 2, 0, 0}, uint16(3500), uint8(0))
	f.Add(uint8(3), uint64(0), uint8(0), uint8(0b0101), uint16(1232), []byte{0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2}, uint16(100), uint8(0))
	f.Add(uint8(3), uint64(0), uint8(0), uint8(0b0101), uint16(1232), []byte{0, 8, 0, 7, 0, 1, 24, 8, 192, 0, 2}, uint16(100), uint8(0))
	f.Add(uint8(0), uint64(0), uint8(0), uint8(0b0101), uint16(1232), []byte{0, 11, 0, 2, 0, 100}, uint16(0), uint8(0))
	f.Add(uint8(0), uint64(0), uint8(1), uint8(0b0101), uint16(1232), []byte{0, 10, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint16(0), uint8(0))
	f.Add(uint8(0), uint64(0), uint8(0), uint8(0), uint16(1232), []byte(nil), uint16(0), uint8(1))
	f.Add(uint8(2), uint64(0), uint8(0), uint8(1), uint16(1232), []byte(nil), uint16(10), uint8(2))
	f.Add(uint8(0), uint64(7), uint8(0), uint8(1), uint16(1232), []byte(nil), uint16(0), uint8(3))
	f.Add(uint8(0), uint64(0), uint8(0), uint8(0b0101), uint16(1232), []byte{0, 8, 0, 8, 0, 1, 32, 0, 127, 0, 0, 2}, uint16(5), uint8(0))
	f.Add(uint8(2), uint64(0), uint8(0), uint8(0b0101), uint16(1232), []byte{0, 8, 0, 8, 0, 1, 32, 0, 127, 0, 0, 3}, uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, name uint8, caseMask uint64, qtype uint8, flags uint8, size uint16, option []byte, age uint16, site uint8) {
		client := fuzzClients[int(site)%len(fuzzClients)]
		m := new(dns.Msg)
		m.SetQuestion(mixCase(fuzzNames[int(name)%len(fuzzNames)], caseMask), fuzzTypes[int(qtype)%len(fuzzTypes)])
		m.RecursionDesired = flags&1 != 0
		m.CheckingDisabled = flags&2 != 0
		if flags&4 != 0 {
			m.SetEdns0(size, flags&8 != 0)
		}
		pkt, err := m.Pack()
		if err != nil {
			return
		}
		if flags&4 != 0 && len(option) > 0 && len(option) < 512 {
			pkt = appendRawOption(pkt, option) // possibly malformed: both paths must say FORMERR
		}
		s, clock, wclock := fuzzServerWithClock(t)
		for _, proto := range []metrics.Proto{metrics.UDP, metrics.TCP} {
			full, fast := exchange(s, pkt, proto, client)
			if fast {
				continue // answered without the full path (an error reply, or stored by the UDP run)
			}
			again, fast := exchange(s, pkt, proto, client)
			if !fast {
				continue // not kept: nothing for the fast path to disagree with
			}
			differ(t, proto, "full path", full, again)
			checkScrubbed(t, unpacked(t, again))
		}
		clock.Add(time.Duration(age) * time.Second)
		for _, proto := range []metrics.Proto{metrics.UDP, metrics.TCP} {
			if later, fast := exchange(s, pkt, proto, client); fast {
				differ(t, proto, "a fresh synthesis "+strconv.Itoa(int(age))+" s later", freshFull(s, wclock, pkt, proto, client), later)
			}
		}
	})
}

// differ fails the test when the fast path's reply is not byte for byte
// what the other gave.
func differ(t *testing.T, proto metrics.Proto, other string, want, fast []byte) {
	t.Helper()
	if !bytes.Equal(want, fast) {
		t.Fatalf("%v: %s and the fast path differ\n%s:\n%v\nfast:\n%v", proto, other, other, unpacked(t, want), unpacked(t, fast))
	}
}

func unpacked(t *testing.T, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	return m
}

// mixCase gives each letter of name the case its bit in mask says.
func mixCase(name string, mask uint64) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && mask&(1<<(i%64)) != 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// appendRawOption adds raw option bytes to the OPT record that ends pkt.
func appendRawOption(pkt, option []byte) []byte {
	out := append(bytes.Clone(pkt), option...)
	rdlen := len(pkt) - 2
	n := int(out[rdlen])<<8 | int(out[rdlen+1]) + len(option)
	out[rdlen], out[rdlen+1] = byte(n>>8), byte(n)
	return out
}

// The differential target only tests something if the fast path really
// answers what the full path stored, for both kinds of answer.
func TestFuzzServerAnswersOnTheFastPath(t *testing.T) {
	srv := fuzzServer(t)
	for _, name := range []string{"www.example.com.", listed} {
		pkt, _ := question(name, dns.TypeA).Pack()
		if _, fast := exchange(srv, pkt, metrics.UDP, fuzzClient); fast {
			t.Fatalf("%s: first query answered on the fast path", name)
		}
		if _, fast := exchange(srv, pkt, metrics.UDP, fuzzClient); !fast {
			t.Fatalf("%s not answered on the fast path the second time", name)
		}
	}
}
