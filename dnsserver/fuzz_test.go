package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/internal/dnstest"
)

// stubResolver answers without I/O so that fuzzing runs the handler alone:
// names hashing to one third fail, the rest get one A record.
type stubResolver struct{}

func (stubResolver) Resolve(_ context.Context, name string, qtype, _ uint16, _ bool) (cache.Result, error) {
	h := fnv.New32a()
	h.Write([]byte(name))
	if h.Sum32()%3 == 0 {
		return cache.Result{}, errors.New("stub failure")
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	rr, _ := dns.NewRR(name + " 60 IN A 192.0.2.1")
	if rr != nil && qtype == dns.TypeA {
		m.Answer = []dns.RR{rr}
	}
	return cache.Result{Msg: m}, nil
}

func (stubResolver) Probe(context.Context, string, uint16) error { return nil }

// recorder is a dns.ResponseWriter that keeps what the handler writes.
type recorder struct {
	network string
	written []*dns.Msg
}

func (r *recorder) LocalAddr() net.Addr {
	if r.network == "tcp" {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (r *recorder) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 40000}
}
func (r *recorder) WriteMsg(m *dns.Msg) error { r.written = append(r.written, m); return nil }
func (r *recorder) Write([]byte) (int, error) { return 0, errors.New("raw writes not expected") }
func (r *recorder) Close() error              { return nil }
func (r *recorder) TsigStatus() error         { return nil }
func (r *recorder) TsigTimersOnly(bool)       {}
func (r *recorder) Hijack()                   {}

func fuzzServer(t testing.TB) *Server {
	ep := config.Endpoint{Region: "eu-west-2", Hostname: "vpce-1.s3.eu-west-2.vpce.amazonaws.com.",
		Buckets: []string{"myspecificbucket", "logs-*"}, AccessPoints: []string{"*"}, Control: true,
		Answer: config.AnswerCNAME, OnUnresolved: config.UnresolvedCNAME, TTL: 60e9}
	alias := ep
	alias.Region, alias.Answer, alias.Buckets = "us-east-1", config.AnswerAlias, []string{"*"}
	cfg := &config.Config{UpstreamTimeout: 1e9, Endpoints: []config.Endpoint{ep, alias}}
	cfg.Access.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return New(NewState(cfg, stubResolver{}), Options{})
}

// FuzzHandler feeds raw bytes through the same steps as the server — header
// check, unpack, ServeDNS — and checks that no input panics and that every
// reply is one well-formed message for this query.
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
	fast, fastState := fuzzFastServer(f)
	f.Fuzz(func(t *testing.T, data []byte, overTCP bool) {
		checkFast(t, fast, fastState, data)
		if len(data) < 12 {
			return // the server drops these without a reply
		}
		hdr := dns.Header{
			Id: binary.BigEndian.Uint16(data), Bits: binary.BigEndian.Uint16(data[2:]),
			Qdcount: binary.BigEndian.Uint16(data[4:]), Ancount: binary.BigEndian.Uint16(data[6:]),
			Nscount: binary.BigEndian.Uint16(data[8:]), Arcount: binary.BigEndian.Uint16(data[10:]),
		}
		if s.acceptQuery(hdr) != dns.MsgAccept {
			return
		}
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return // answered with FORMERR by miekg/dns itself
		}
		w := &recorder{network: "udp"}
		if overTCP {
			w.network = "tcp"
		}
		s.ServeDNS(w, req)
		if len(w.written) != 1 {
			t.Fatalf("%d replies written", len(w.written))
		}
		resp := w.written[0]
		packed, err := resp.Pack()
		if err != nil {
			t.Fatalf("reply does not pack: %v\n%v", err, resp)
		}
		if resp.Id != req.Id || !resp.Response {
			t.Fatalf("reply header %v for id %d", resp.MsgHdr, req.Id)
		}
		if len(req.Question) == 1 && resp.Rcode != dns.RcodeFormatError &&
			(len(resp.Question) != 1 || resp.Question[0] != req.Question[0]) {
			t.Fatalf("question not echoed: asked %v, got %v", req.Question, resp.Question)
		}
		if !overTCP && len(packed) > maxUDPSize {
			t.Fatalf("UDP reply of %d bytes", len(packed))
		}
		var back dns.Msg
		if err := back.Unpack(packed); err != nil {
			t.Fatalf("reply does not parse back: %v", err)
		}
	})
}

// fuzzFastServer is a server whose cache is real (packed answers) and
// already holds the seed names, so that the fast path answers them.
func fuzzFastServer(f testing.TB) (*Server, *State) {
	srv := fuzzServer(f)
	st := srv.State()
	c := cache.New(cache.Config{MaxEntries: 1000, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, dnstest.MemoryUpstream{})
	fast := New(NewState(st.Config, c), Options{})
	for _, n := range []string{unlisted, "www.example.com.", listed} {
		for _, req := range []*dns.Msg{question(n, dns.TypeA), withEDNS(question(n, dns.TypeA), 1232, false)} {
			fast.ServeDNS(&recorder{network: "udp"}, req)
		}
	}
	return fast, fast.State()
}

// checkFast feeds raw bytes to the fast path: whatever it answers must be
// one well-formed reply to exactly this query.
func checkFast(t *testing.T, s *Server, st *State, data []byte) {
	r, ok := s.fastAnswer(st, data, netip.MustParseAddr("127.0.0.9"), maxUDPSize, newScratch())
	if !ok {
		return
	}
	var req, resp dns.Msg
	if err := req.Unpack(data); err != nil {
		t.Fatalf("fast path answered a query miekg/dns cannot parse: %v", err)
	}
	if err := resp.Unpack(r.resp); err != nil {
		t.Fatalf("fast reply does not parse: %v", err)
	}
	if resp.Id != req.Id || !resp.Response || len(resp.Question) != 1 || resp.Question[0] != req.Question[0] {
		t.Fatalf("fast reply %v to %v", &resp, &req)
	}
	if (req.IsEdns0() != nil) != (resp.IsEdns0() != nil) || len(r.resp) > maxUDPSize {
		t.Fatalf("EDNS or size wrong: %v", &resp)
	}
}

// The fast-path half of FuzzHandler only checks something if its server
// really answers on the fast path.
func TestFuzzFastServerAnswersOnTheFastPath(t *testing.T) {
	srv, st := fuzzFastServer(t)
	for _, name := range []string{unlisted, listed} {
		pkt, _ := question(name, dns.TypeA).Pack()
		if _, ok := srv.fastAnswer(st, pkt, netip.MustParseAddr("127.0.0.9"), maxUDPSize, newScratch()); !ok {
			t.Fatalf("%s not answered on the fast path", name)
		}
	}
}
