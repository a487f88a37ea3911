package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/wire"
)

const big = "big.example."

func startBig(t *testing.T) *harness {
	t.Helper()
	up := dnstest.NewUpstream(t, publicZone...)
	for i := range 100 {
		up.Add(t, fmt.Sprintf("%s 300 IN A 192.0.2.%d", big, i+1))
	}
	return startWith(t, baseConfig(), up)
}

func withEDNS(m *dns.Msg, size uint16, do bool) *dns.Msg {
	m.SetEdns0(size, do)
	return m
}

func packedLen(t *testing.T, m *dns.Msg) int {
	t.Helper()
	m.Compress = true // as the server sent it
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func TestEDNSEchoedOnlyWhenSent(t *testing.T) {
	h := start(t, baseConfig())
	resp := h.query(t, unlisted, dns.TypeA)
	if resp.IsEdns0() != nil {
		t.Fatal("OPT in a reply to a query without one")
	}
	for _, name := range []string{unlisted, listed} {
		resp = h.ask(t, "udp", withEDNS(question(name, dns.TypeA), 4096, true))
		opt := resp.IsEdns0()
		if opt == nil || opt.UDPSize() != wire.MaxUDPSize || !opt.Do() || opt.Version() != 0 {
			t.Fatalf("%s OPT: %v", name, opt)
		}
	}
}

func TestUDPSizeHonouredAndCapped(t *testing.T) {
	h := startBig(t)
	cases := []struct {
		name  string
		query *dns.Msg
		limit int
	}{
		{"no EDNS", question(big, dns.TypeA), 512},
		{"EDNS 4096 is capped", withEDNS(question(big, dns.TypeA), 4096, false), wire.MaxUDPSize},
		{"EDNS 800", withEDNS(question(big, dns.TypeA), 800, false), 800},
		{"EDNS below 512 means 512", withEDNS(question(big, dns.TypeA), 100, false), 512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.ask(t, "udp", tc.query)
			if !resp.Truncated || packedLen(t, resp) > tc.limit || resp.Rcode != dns.RcodeSuccess {
				t.Errorf("TC %v, %d bytes, limit %d", resp.Truncated, packedLen(t, resp), tc.limit)
			}
			if resp.Question[0].Name != big {
				t.Errorf("question lost in truncation")
			}
		})
	}
	resp := h.ask(t, "tcp", question(big, dns.TypeA))
	if resp.Truncated || len(resp.Answer) != 100 {
		t.Fatalf("TCP: TC %v, %d records", resp.Truncated, len(resp.Answer))
	}
}

func TestGarbageDoesNotStopServer(t *testing.T) {
	h := start(t, baseConfig())
	conn, err := net.Dial("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	valid, _ := question(unlisted, dns.TypeA).Pack()
	inputs := [][]byte{
		{},
		{0x01},
		{0x12, 0x34, 0x01, 0x00, 0x00, 0x01}, // header cut short
		append(valid[:12:12], 0xc0, 0x0c, 0, 1, 0, 1), // compression pointer loop
		append([]byte{}, valid[:len(valid)-2]...),     // question cut short
		valid[:len(valid)-1],
	}
	for _, in := range inputs {
		if _, err := conn.Write(in); err != nil {
			t.Fatal(err)
		}
	}
	// A truncated question gets FORMERR, others are dropped: either way the
	// next real query is answered.
	resp := h.query(t, unlisted, dns.TypeA)
	if len(resp.Answer) != 1 {
		t.Fatalf("server stopped answering: %v", resp)
	}
}

func TestEDNSOptionsNotCopied(t *testing.T) {
	h := start(t, baseConfig())
	q := withEDNS(question(unlisted, dns.TypeA), 1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	resp := h.ask(t, "udp", q)
	if opt := resp.IsEdns0(); opt == nil || len(opt.Option) != 0 {
		t.Fatalf("reply OPT: %v", opt)
	}
	for _, up := range h.up.Asked() {
		if opt := up.IsEdns0(); opt != nil && len(opt.Option) != 0 {
			t.Fatalf("client option sent upstream: %v", opt.Option)
		}
	}
}

func TestQuestionEchoedExactly(t *testing.T) {
	h := start(t, baseConfig())
	// Each spelling is asked after the name is cached, so that the fast path
	// (patching a packed answer) is checked as well as the full path.
	for _, name := range []string{"MySpEcIfIcBuCkEt.S3.Eu-WeSt-2.AmAzOnAwS.CoM.", "oThErBuCkEt.s3.EU-WEST-2.amazonaws.com.",
		"mYsPeCiFiCbUcKeT.s3.eU-wEsT-2.aMaZoNaWs.cOm.", "OTHERBUCKET.S3.eu-west-2.AMAZONAWS.com."} {
		resp := h.query(t, name, dns.TypeA)
		if resp.Question[0].Name != name || resp.Answer[0].Header().Name != name {
			t.Fatalf("asked %s, question %s, owner %s", name, resp.Question[0].Name, resp.Answer[0].Header().Name)
		}
	}
}

// panickingUpstream makes the full path panic.
type panickingUpstream struct{}

func (panickingUpstream) Exchange(context.Context, *dns.Msg) (*dns.Msg, string, error) {
	panic("boom")
}

func TestPanicRecovered(t *testing.T) {
	h := start(t, baseConfig())
	good := h.srv.State()
	h.srv.Swap(NewState(good.Config, cache.New(cache.Config{}, panickingUpstream{}), nil, nil))
	for _, network := range []string{"udp", "tcp"} {
		if resp := h.ask(t, network, question(unlisted, dns.TypeA)); resp.Rcode != dns.RcodeServerFailure {
			t.Fatalf("%s: %v", network, resp)
		}
	}
	h.srv.Swap(good)
	if resp := h.query(t, unlisted, dns.TypeA); len(resp.Answer) != 1 {
		t.Fatalf("after a panic: %v", resp)
	}
}

func TestIPv6Listener(t *testing.T) {
	ln, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback on this machine:", err)
	}
	ln.Close()
	h := startWith(t, baseConfig().with(func(c *serverConfig) { c.Listen = []string{"[::1]:0"} }), dnstest.NewUpstream(t, publicZone...))
	if !strings.HasPrefix(h.addr, "[::1]:") {
		t.Fatalf("bound %s", h.addr)
	}
	resp := h.query(t, listed, dns.TypeA)
	if len(resp.Answer) != 3 {
		t.Fatalf("resp: %v", resp)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"rate_limit_qps": 5} }))
	refused := 0
	for range 30 {
		if resp := h.query(t, listed, dns.TypeA); resp.Rcode == dns.RcodeRefused {
			refused++
		}
	}
	// Burst 5 at 5 qps: most of 30 quick queries are over the rate.
	if refused < 15 {
		t.Fatalf("only %d of 30 queries refused at 5 qps", refused)
	}
	if got := testutil.ToFloat64(h.metrics.Requests.WithLabelValues("udp", "udp", "A", "ratelimited", "")); got != float64(refused) {
		t.Fatalf("ratelimited counter %v, refused %d", got, refused)
	}
	// Another client address has its own bucket.
	c := &dns.Client{Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}}
	resp, _, err := c.Exchange(question(listed, dns.TypeA), h.addr)
	if err != nil || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("second client: %v %v", resp, err)
	}
}

func TestRateLimiterTableBounded(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	r := newRateLimiter(1)
	for i := range 3 * maxRateClients {
		r.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	r.clients.CleanUp()
	if n := r.clients.EstimatedSize(); n > maxRateClients {
		t.Fatalf("%d clients tracked, max %d", n, maxRateClients)
	}
}

// On a wildcard listener a reply leaves from the address its query was sent
// to: a client of 127.0.0.2 drops a reply from 127.0.0.1, which is what the
// kernel would pick on its own.
func TestWildcardListenerRepliesFromQueriedAddress(t *testing.T) {
	h := startWith(t, baseConfig().with(func(c *serverConfig) { c.Listen = []string{":0"} }), dnstest.NewUpstream(t, publicZone...))
	_, port, _ := net.SplitHostPort(h.addr)
	targets := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	if ln, err := net.ListenPacket("udp", "[::1]:0"); err == nil {
		ln.Close()
		targets = append(targets, "::1")
	}
	for _, ip := range targets {
		for _, name := range []string{listed, listed, unlisted} { // full path, then fast path
			c := &dns.Client{Timeout: 2 * time.Second}
			resp, _, err := c.Exchange(question(name, dns.TypeA), net.JoinHostPort(ip, port))
			if err != nil || len(resp.Answer) == 0 {
				t.Fatalf("query to %s for %s: %v %v", ip, name, resp, err)
			}
		}
	}
}

// A query that the fast path passes on to the full path takes one token
// from its client's rate, not two.
func TestRateLimitCountsEachQueryOnce(t *testing.T) {
	up := dnstest.NewUpstream(t, publicZone...)
	for i := range 5 {
		up.Add(t, fmt.Sprintf("miss%d.example. 60 IN A 192.0.2.%d", i, i+1))
	}
	for _, network := range []string{"udp", "tcp"} {
		h := startWith(t, baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"rate_limit_qps": 5} }), up)
		for i := range 5 { // the burst: five misses, each a full-path query
			if resp := h.ask(t, network, question(fmt.Sprintf("miss%d.example.", i), dns.TypeA)); resp.Rcode != dns.RcodeSuccess {
				t.Fatalf("%s query %d of a burst of 5 at 5 qps: %s", network, i, dns.RcodeToString[resp.Rcode])
			}
		}
	}
}
