package dnsserver

import (
	"context"
	"encoding/binary"
	"io"
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

// 2 and 16. Admission first: a client outside allow gets REFUSED whatever
// it sent (nothing when the question does not parse); every reply to a
// query whose OPT parses carries an OPT, errors included.
func TestAdmissionOrderAndOPTOnErrors(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"allow": []string{"127.0.0.1/32"}} }))
	edns := func(m *dns.Msg) *dns.Msg { return withEDNS(m, 1232, true) }
	notify := edns(question(unlisted, dns.TypeSOA))
	notify.Opcode = dns.OpcodeNotify
	twoOPT := edns(question(unlisted, dns.TypeA))
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	badVersion := edns(question(unlisted, dns.TypeA))
	badVersion.IsEdns0().SetVersion(1)
	for _, c := range []struct {
		name    string
		msg     *dns.Msg
		inside  int // rcode for an allowed client
		outside int // rcode for a client outside allow
	}{
		{"NOTIFY", notify, dns.RcodeNotImplemented, dns.RcodeRefused},
		{"two OPT records", twoOPT, dns.RcodeFormatError, dns.RcodeRefused},
		{"EDNS version 1", badVersion, dns.RcodeBadVers, dns.RcodeRefused},
		{"QTYPE OPT", edns(question(unlisted, dns.TypeOPT)), dns.RcodeFormatError, dns.RcodeRefused},
		{"a plain query", edns(question(unlisted, dns.TypeA)), dns.RcodeSuccess, dns.RcodeRefused},
	} {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(c.name+"/"+network, func(t *testing.T) {
				for _, client := range []struct {
					from  string
					rcode int
				}{{"127.0.0.1", c.inside}, {"127.0.0.2", c.outside}} {
					resp, err := askFrom(t, network, client.from, h.addr, c.msg)
					if client.from == "127.0.0.2" && network == "tcp" {
						if err == nil {
							t.Fatalf("TCP from outside allow answered: %v", resp)
						}
						continue // closed at accept (item 1)
					}
					if err != nil {
						t.Fatalf("from %s: %v", client.from, err)
					}
					if resp.Rcode != client.rcode || resp.IsEdns0() == nil || len(resp.Question) != 1 {
						t.Fatalf("from %s: rcode %s, OPT %v; want %s with an OPT", client.from,
							dns.RcodeToString[resp.Rcode], resp.IsEdns0() != nil, dns.RcodeToString[client.rcode])
					}
				}
			})
		}
	}
	// Nothing at all for an unparseable packet from outside allow.
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

// 5. A query signed with a key s3dns does not have gets NOTAUTH with TSIG
// error BADKEY (RFC 8945 §5.2), and is never forwarded.
func TestUnknownTSIGKey(t *testing.T) {
	h := start(t, baseConfig())
	for _, network := range []string{"udp", "tcp"} {
		m := withEDNS(question(unlisted, dns.TypeA), 1232, false)
		m.SetTsig("transfer-key.", dns.HmacSHA256, 300, time.Now().Unix())
		signed, _, err := dns.TsigGenerate(m, "c2VjcmV0c2VjcmV0c2VjcmV0", "", false)
		if err != nil {
			t.Fatal(err)
		}
		reply := rawExchange(t, network, h.addr, signed)
		var resp dns.Msg
		if err := resp.Unpack(reply); err != nil {
			t.Fatal(err)
		}
		tsig := resp.IsTsig()
		if resp.Rcode != dns.RcodeNotAuth || tsig == nil || tsig.Error != dns.RcodeBadKey || tsig.Hdr.Name != "transfer-key." ||
			tsig.MACSize != 0 || resp.IsEdns0() == nil {
			t.Fatalf("%s: %v", network, &resp)
		}
	}
	if h.up.Total() != 0 {
		t.Fatal("a query with an unknown TSIG key went upstream")
	}
}

// rawExchange sends packed bytes and returns the packed reply.
func rawExchange(t *testing.T, network, addr string, pkt []byte) []byte {
	t.Helper()
	conn, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if network == "udp" {
		if _, err := conn.Write(pkt); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(pkt))), pkt...)); err != nil {
		t.Fatal(err)
	}
	var length [2]byte
	if _, err := io.ReadFull(conn, length[:]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, binary.BigEndian.Uint16(length[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	return buf
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

// 17 and 18. Zone transfers and classes other than IN get REFUSED over UDP
// and TCP, whatever the authority section holds, and are never forwarded.
func TestTransfersAndOtherClassesRefused(t *testing.T) {
	h := start(t, baseConfig())
	ixfr := question("s3.eu-west-2.amazonaws.com.", dns.TypeIXFR)
	soa, _ := dns.NewRR("s3.eu-west-2.amazonaws.com. 0 IN SOA ns. mb. 1 0 0 0 0")
	ixfr.Ns = []dns.RR{soa}
	class := func(name string, qtype, qclass uint16) *dns.Msg {
		m := question(name, qtype)
		m.Question[0].Qclass = qclass
		return m
	}
	for _, c := range []struct {
		name string
		msg  *dns.Msg
	}{
		{"AXFR", question("s3.eu-west-2.amazonaws.com.", dns.TypeAXFR)},
		{"IXFR with an SOA", ixfr},
		{"IXFR without", question("s3.eu-west-2.amazonaws.com.", dns.TypeIXFR)},
		{"CH version.bind", class("version.bind.", dns.TypeTXT, dns.ClassCHAOS)},
		{"CH hostname.bind", class("hostname.bind.", dns.TypeTXT, dns.ClassCHAOS)},
		{"CH id.server", class("id.server.", dns.TypeTXT, dns.ClassCHAOS)},
		{"class ANY", class(unlisted, dns.TypeA, dns.ClassANY)},
		{"HS", class(unlisted, dns.TypeA, dns.ClassHESIOD)},
		{"CH for a listed bucket", class(listed, dns.TypeA, dns.ClassCHAOS)},
	} {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(c.name+"/"+network, func(t *testing.T) {
				if resp := h.ask(t, network, c.msg); resp.Rcode != dns.RcodeRefused || len(resp.Answer) != 0 {
					t.Fatalf("%v", resp)
				}
			})
		}
	}
	if h.up.Total() != 0 {
		t.Fatalf("%d refused queries went upstream", h.up.Total())
	}
}

// 19. Without RD, endpoint answers and every name in the served zones are
// answered (resolvers may use s3dns as a stub); other names are REFUSED.
func TestRecursionNotDesired(t *testing.T) {
	h := start(t, baseConfig())
	for _, c := range []struct {
		name  string
		rcode int
		ans   int
	}{
		{listed, dns.RcodeSuccess, 3},
		{unlisted, dns.RcodeSuccess, 1}, // an unlisted bucket in a served zone
		{vpce, dns.RcodeSuccess, 2},     // the endpoint's own hostname (issue 17, item 8)
		{"www.example.", dns.RcodeRefused, 0},
		{"myspecificbucket.s3-fips.eu-west-2.amazonaws.com.", dns.RcodeRefused, 0}, // not a served zone
	} {
		for range 2 { // the full path, then the fast path
			m := question(c.name, dns.TypeA)
			m.RecursionDesired = false
			resp := h.ask(t, "udp", m)
			if resp.Rcode != c.rcode || len(resp.Answer) != c.ans || resp.RecursionDesired {
				t.Fatalf("%s with RD=0: %v", c.name, resp)
			}
			if c.rcode == dns.RcodeRefused {
				h.query(t, c.name, dns.TypeA) // cached now: still refused without RD
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

// 22. A malformed EDNS option (length past the end) gets FORMERR on both
// paths: after the name is cached as well as before.
func TestMalformedEDNSOptionOnBothPaths(t *testing.T) {
	h := start(t, baseConfig())
	for _, name := range []string{unlisted, listed} {
		pkt, _ := withEDNS(question(name, dns.TypeA), 1232, false).Pack()
		bad := appendRawOption(pkt, []byte{0, 10, 0, 8, 1, 2}) // claims 8 bytes, has 2
		for _, when := range []string{"uncached", "cached"} {
			var resp dns.Msg
			if err := resp.Unpack(rawExchange(t, "udp", h.addr, bad)); err != nil {
				t.Fatal(err)
			}
			if resp.Rcode != dns.RcodeFormatError || resp.IsEdns0() == nil {
				t.Fatalf("%s %s: %v", name, when, &resp)
			}
			h.query(t, name, dns.TypeA)
		}
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
