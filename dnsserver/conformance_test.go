package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/internal/dnstest"
)

// The standards conformance rules (README "Protocol"), each end to end
// against an in-process server; the numbers are the conformance issue's.

// askFrom sends m over network from a given loopback source address.
func askFrom(t *testing.T, network, from, addr string, m *dns.Msg) (*dns.Msg, error) {
	t.Helper()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(from)}
	if network == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: local, Timeout: 2 * time.Second}}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

// 1. TCP admission: a client outside allow is closed at accept, and one
// client address holds at most tcp_per_client connections (idle ones give
// way to new ones: TestPerClientCapEvictsOldestIdle), so that neither can
// take the slots of everybody else.
func TestTCPAdmissionAtAccept(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := start(t, baseConfig().with(func(c *serverConfig) {
		c.Access = map[string]any{"allow": []string{"127.0.0.1/32", "127.0.0.3/32"}, "tcp_per_client": 32}
	}))
	dialFrom := func(from string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
		return d.Dial("tcp", h.addr)
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 1000 {
		if c, err := dialFrom("127.0.0.2"); err == nil { // outside allow
			held = append(held, c)
		}
	}
	for range 100 {
		if c, err := dialFrom("127.0.0.1"); err == nil { // allowed, but one address
			held = append(held, c)
		}
	}
	refused := func(reason string) float64 { return testutil.ToFloat64(h.metrics.TCPRefused.WithLabelValues(reason)) }
	evicted := func() float64 { return testutil.ToFloat64(h.metrics.TCPClosed.WithLabelValues(closedEvicted)) }
	open := func() float64 { return testutil.ToFloat64(h.metrics.TCPConnections) }
	dnstest.WaitFor(t, "1000 refused for the ACL, 68 idle connections evicted, 32 open", 10*time.Second, func() bool {
		return refused(refusedACL) == 1000 && evicted() == 68 && open() == 32
	})
	resp, err := askFrom(t, "tcp", "127.0.0.3", h.addr, question(listed, dns.TypeA))
	if err != nil || len(resp.Answer) != 3 {
		t.Fatalf("another allowed client over TCP: %v %v", resp, err)
	}
	// A connection from outside allow is closed before anything is read.
	c, err := dialFrom("127.0.0.2")
	if err == nil {
		defer c.Close()
		if !closedWithin(c, 2*time.Second) {
			t.Fatal("a connection from outside allow was kept open")
		}
	}
}

// 2 and 16. Admission over a UDP socket (TestAdmission has every rule;
// TestTCPAdmissionAtAccept the TCP side): a client outside allow gets
// REFUSED with an OPT, and nothing at all for a packet that does not parse.
func TestUDPAdmission(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"allow": []string{"127.0.0.1/32"}} }))
	resp, err := askFrom(t, "udp", "127.0.0.2", h.addr, withEDNS(question(unlisted, dns.TypeA), 1232, true))
	if err != nil || resp.Rcode != dns.RcodeRefused || resp.IsEdns0() == nil {
		t.Fatalf("from outside allow: %v %v; want REFUSED with an OPT", resp, err)
	}
	conn, err := (&net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	garbage, _ := question(unlisted, dns.TypeA).Pack()
	if _, err := conn.Write(garbage[:len(garbage)-3]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 512)); err == nil {
		t.Fatalf("%d bytes answered to an unparseable packet from outside allow", n)
	}
}

// 12. The client's CD bit goes upstream and keeps its answers apart
// (RFC 6840 §5.9), on forwarded names and endpoint targets alike.
func TestCDBitSentUpstreamAndKeyed(t *testing.T) {
	h := start(t, baseConfig())
	for _, name := range []string{unlisted, listed} {
		plain := question(name, dns.TypeA)
		cd := question(name, dns.TypeA)
		cd.CheckingDisabled = true
		before := len(h.up.Asked())
		if resp := h.ask(t, "udp", plain); !resp.RecursionAvailable || resp.CheckingDisabled {
			t.Fatalf("%s plain: %v", name, resp.MsgHdr)
		}
		if resp := h.ask(t, "udp", cd); !resp.CheckingDisabled || len(resp.Answer) == 0 {
			t.Fatalf("%s CD: %v", name, resp)
		}
		asked := h.up.Asked()[before:]
		if len(asked) != 2 || asked[0].CheckingDisabled || !asked[1].CheckingDisabled {
			t.Fatalf("%s: upstream queries %d, want one without and one with CD", name, len(asked))
		}
	}
}

// 13. With DO=1, a NODATA endpoint answer keeps the target's whole
// authority section (SOA, NSEC, RRSIGs); without DO, the SOA alone.
func TestDNSSECProofsKeptBehindEndpoint(t *testing.T) {
	up := dnstest.NewUpstream(t, publicZone...)
	up.AddProof(t, vpce+" 60 IN NSEC z.vpce.amazonaws.com. A AAAA RRSIG NSEC")
	up.AddProof(t, vpce+" 60 IN RRSIG NSEC 13 5 60 20300101000000 20200101000000 12345 vpce.amazonaws.com. AAAA")
	h := startWith(t, baseConfig(), up)
	for _, c := range []struct {
		do   bool
		want []uint16
	}{{false, []uint16{dns.TypeSOA}}, {true, []uint16{dns.TypeSOA, dns.TypeNSEC, dns.TypeRRSIG}}} {
		for range 2 { // the full path, then the fast path
			resp := h.ask(t, "udp", withEDNS(question(listed, dns.TypeTXT), 1232, c.do))
			var got []uint16
			for _, rr := range resp.Ns {
				got = append(got, rr.Header().Rrtype)
			}
			if len(resp.Answer) != 1 || len(got) != len(c.want) {
				t.Fatalf("DO=%v: authority %v, want %v", c.do, got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("DO=%v: authority %v, want %v", c.do, got, c.want)
				}
			}
		}
	}
}

// 20. QTYPE ANY on a listed name: the CNAME alone, not chased (RFC 8482).
func TestAnyOnListedName(t *testing.T) {
	h := start(t, baseConfig())
	resp := h.query(t, listed, dns.TypeANY)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME || !resp.Authoritative {
		t.Fatalf("%v", resp)
	}
	if n := h.up.Count(vpce, "udp"); n != 0 {
		t.Fatalf("the endpoint hostname was asked %d times for ANY", n)
	}
}

// 21. A link-local IPv6 client matches allow on its address, not its zone.
func TestLinkLocalClientMatchesAllow(t *testing.T) {
	cfg := fuzzServer(t).State().Config
	st := NewState(withAllow(cfg, "fe80::/10"), cache.New(cache.Config{}, nil), nil, nil)
	if !st.allowed(netip.MustParseAddr("fe80::1%eth0")) || st.allowed(netip.MustParseAddr("fd00::1%eth0")) {
		t.Fatal("the zone decided the match")
	}
}

// Shutdown cancels the full path's context once its grace is over, so that
// no upstream wait outlives the server.
func TestShutdownCancelsFullPath(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := start(t, baseConfig().with(func(c *serverConfig) { c.UpstreamTimeout = "10s" }))
	h.up.SetMode(dnstest.Silent, 0)
	go func() {
		c := &dns.Client{Timeout: 5 * time.Second}
		_, _, _ = c.Exchange(question("never.example.", dns.TypeA), h.addr)
	}()
	deadline := time.Now().Add(2 * time.Second)
	for h.up.Total() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
	done := make(chan struct{})
	go func() { h.srv.full.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("a full-path query outlived Shutdown's grace by seconds")
	}
}
