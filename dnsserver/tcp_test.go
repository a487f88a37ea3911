package dnsserver

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func tcpOpts() Options {
	return Options{TCPReadTimeout: 300 * time.Millisecond, MaxTCPConns: 3}
}

// shortTCP is baseConfig with TCP timeouts short enough for tests.
func shortTCP() serverConfig {
	return baseConfig().with(func(c *serverConfig) {
		c.TCP = map[string]any{"idle_timeout": "300ms", "write_timeout": "300ms"}
	})
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		_, err := conn.Read(buf)
		if err == io.EOF {
			return true
		}
		if err != nil {
			ne, ok := err.(net.Error)
			return !(ok && ne.Timeout())
		}
	}
}

// refusedAtAccept dials addr and reports whether the server closes the
// connection at once: the reset it sends may already fail the dial.
func refusedAtAccept(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return true
	}
	defer c.Close()
	return closedWithin(c, 5*time.Second)
}

func TestSlowAndLyingTCPClientsDoNotBlockOthers(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := startOpts(t, shortTCP(), tcpOpts(), dnstest.NewUpstream(t, publicZone...))
	cases := map[string][]byte{
		"half a length prefix":        {0x00},
		"length longer than the data": {0x01, 0xf4, 0x12, 0x34}, // says 500 bytes, sends 2
		"zero length":                 {0x00, 0x00},
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write(payload)
			// Others are served meanwhile, over UDP and TCP.
			if resp := h.query(t, listed, dns.TypeA); len(resp.Answer) != 3 {
				t.Fatalf("UDP: %v", resp)
			}
			if resp := h.ask(t, "tcp", question(listed, dns.TypeA)); len(resp.Answer) != 3 {
				t.Fatalf("TCP: %v", resp)
			}
			if !closedWithin(conn, 5*time.Second) {
				t.Fatal("the server kept the bad connection open")
			}
		})
	}
}

func TestOversizedTCPMessage(t *testing.T) {
	h := start(t, baseConfig())
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	junk := make([]byte, 2+65535)
	binary.BigEndian.PutUint16(junk, 65535)
	for i := 2; i < len(junk); i++ {
		junk[i] = byte(i)
	}
	conn.Write(junk)
	if resp := h.ask(t, "tcp", question(listed, dns.TypeA)); len(resp.Answer) != 3 {
		t.Fatalf("after 64 KiB of junk: %v", resp)
	}
}

func TestTCPConnectionCap(t *testing.T) {
	h := startOpts(t, baseConfig().with(func(c *serverConfig) { c.TCP = map[string]any{"idle_timeout": "1m"} }), Options{MaxTCPConns: 3, TCPReadTimeout: time.Minute}, dnstest.NewUpstream(t, publicZone...))
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	dnstest.WaitFor(t, "the three accepted before the fourth arrives", 5*time.Second, func() bool {
		return testutil.ToFloat64(h.metrics.TCPConnections) == 3
	})
	if !refusedAtAccept(t, h.addr) {
		t.Fatal("a connection over the cap was kept")
	}
	if resp := h.query(t, listed, dns.TypeA); len(resp.Answer) != 3 {
		t.Fatalf("UDP while TCP is full: %v", resp)
	}
	idle[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := &dns.Client{Net: "tcp", Timeout: time.Second}
		if resp, _, err := c.Exchange(question(listed, dns.TypeA), h.addr); err == nil && len(resp.Answer) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no TCP service after a slot was freed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIdleTCPConnectionClosed(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := startOpts(t, shortTCP(), tcpOpts(), dnstest.NewUpstream(t, publicZone...))
	conn, err := dns.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteMsg(question(listed, dns.TypeA))
	if _, err := conn.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(conn.Conn, 5*time.Second) {
		t.Fatal("idle connection kept open")
	}
}

// Item 3: at access.tcp_per_client, the client's oldest connection with
// nothing in flight is closed to admit a new one; only when every one of
// its connections has work in flight is the new one reset. The client never
// holds more than its cap.
func TestPerClientCapEvictsOldestIdle(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t, publicZone...)
	slow := "slow.example."
	up.Add(t, slow+" 60 IN A 192.0.2.1")
	up.DelayName(slow, 3*time.Second)
	h := startWith(t, baseConfig().with(func(c *serverConfig) {
		c.UpstreamTimeout = "10s"
		c.Access = map[string]any{"tcp_per_client": 3}
		c.TCP = map[string]any{"idle_timeout": "1m"}
	}), up)
	dial := func() *dns.Conn {
		t.Helper()
		c, err := dns.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	answered := func(c *dns.Conn) bool {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMsg(question(listed, dns.TypeA)); err != nil {
			return false
		}
		resp, err := c.ReadMsg()
		return err == nil && len(resp.Answer) == 3
	}
	busy := func(c *dns.Conn) { // a query that stays in flight for 3 s
		t.Helper()
		if err := c.WriteMsg(question(slow, dns.TypeA)); err != nil {
			t.Fatal(err)
		}
	}
	evicted := func() float64 { return testutil.ToFloat64(h.metrics.TCPClosed.WithLabelValues(closedEvicted)) }
	// owed is what the server holds against a client connection: replies
	// not yet written (-1: not held). The client can read a reply before the
	// server has counted it written, so the test waits for the server's view.
	owed := func(c *dns.Conn) int32 {
		h.srv.conns.mu.Lock()
		defer h.srv.conns.mu.Unlock()
		for tc := range h.srv.conns.open {
			if tc.RemoteAddr().String() == c.LocalAddr().String() {
				return tc.Owed()
			}
		}
		return -1
	}
	open := func() float64 { return testutil.ToFloat64(h.metrics.TCPConnections) }

	a, b, c := dial(), dial(), dial()
	for _, conn := range []*dns.Conn{a, b, c} {
		if !answered(conn) {
			t.Fatal("a pooled connection was not answered")
		}
	}
	busy(b)
	dnstest.WaitFor(t, "a and c idle, b busy, as the server sees them", 2*time.Second, func() bool {
		return owed(a) == 0 && owed(b) == 1 && owed(c) == 0
	})
	d := dial() // a, the oldest idle one, gives way
	if !answered(d) {
		t.Fatal("the fourth connection was not served")
	}
	if !closedWithin(a.Conn, 2*time.Second) || evicted() != 1 {
		t.Fatalf("the oldest idle connection was not closed (evicted %v)", evicted())
	}
	dnstest.WaitFor(t, "c and d idle as the server sees them", 2*time.Second, func() bool { return owed(c) == 0 && owed(d) == 0 })
	e := dial() // b is busy: c gives way
	if !answered(e) {
		t.Fatal("the fifth connection was not served")
	}
	if !closedWithin(c.Conn, 2*time.Second) || evicted() != 2 {
		t.Fatalf("the oldest idle connection after the busy one was not closed (evicted %v)", evicted())
	}
	busy(d)
	busy(e)
	dnstest.WaitFor(t, "three queries in flight", 2*time.Second, func() bool { return testutil.ToFloat64(h.metrics.InFlight) == 3 })
	if !refusedAtAccept(t, h.addr) {
		t.Fatal("a connection over the cap was kept while every one had work in flight")
	}
	if got := testutil.ToFloat64(h.metrics.TCPRefused.WithLabelValues(refusedPerClient)); got != 1 {
		t.Fatalf("per_client refusals = %v, want 1", got)
	}
	if open() != 3 {
		t.Fatalf("%v connections open, the cap is 3", open())
	}
	// The busy connections still get their answers.
	_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
	if resp, err := b.ReadMsg(); err != nil || len(resp.Answer) != 1 {
		t.Fatalf("the busy connection's answer: %v %v", resp, err)
	}
}

// Item 6 (RFC 7828): a TCP query carrying edns-tcp-keepalive gets it back
// with the idle timeout in 100 ms units, on both speeds and on errors; UDP
// replies never carry it (§3.2.2).
func TestTCPKeepaliveAnswered(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) { c.TCP = map[string]any{"idle_timeout": "7s"} }))
	keepalive := func(m *dns.Msg) *dns.Msg {
		m = withEDNS(m, 1232, false)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
		return m
	}
	told := func(resp *dns.Msg) (uint16, bool) {
		if opt := resp.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
					return k.Timeout, true
				}
			}
		}
		return 0, false
	}
	for _, c := range []struct {
		name string
		msg  *dns.Msg
	}{
		{"endpoint, full path", keepalive(question(listed, dns.TypeA))},
		{"endpoint, fast path", keepalive(question(listed, dns.TypeA))},
		{"forwarded", keepalive(question(unlisted, dns.TypeA))},
		{"refused", keepalive(func() *dns.Msg { m := question(unlisted, dns.TypeA); m.Question[0].Qclass = dns.ClassCHAOS; return m }())},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.ask(t, "tcp", c.msg)
			if timeout, ok := told(resp); !ok || timeout != 70 {
				t.Fatalf("TCP reply keepalive = %d, %v; want 70 (7 s)", timeout, ok)
			}
			if resp := h.ask(t, "udp", c.msg); resp.IsEdns0() == nil {
				t.Fatal("UDP reply without OPT")
			} else if _, ok := told(resp); ok {
				t.Fatal("a UDP reply carries edns-tcp-keepalive")
			}
		})
	}
	if resp := h.ask(t, "tcp", withEDNS(question(unlisted, dns.TypeA), 1232, false)); resp.IsEdns0() == nil {
		t.Fatal("no OPT")
	} else if _, ok := told(resp); ok {
		t.Fatal("keepalive told to a client that did not ask")
	}
}

// Pipelined queries on one TCP connection are answered concurrently, each
// reply written when ready (RFC 7766 §6.2.1.1): names already packed,
// endpoint and forwarded, asked after a slow one are answered first, and
// every query gets its own reply.
func TestPipelinedTCPAnsweredConcurrently(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := start(t, baseConfig())
	const slow = "slow.example."
	h.up.DelayName(slow, time.Second)
	h.query(t, unlisted, dns.TypeA) // packed from now on
	h.query(t, listed, dns.TypeA)
	conn, err := dns.DialTimeout("tcp", h.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	queries := []*dns.Msg{question(slow, dns.TypeA), question(unlisted, dns.TypeA), question(listed, dns.TypeA)}
	sent := time.Now()
	for i, m := range queries {
		m.Id = uint16(100 + i)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var order []uint16
	for range queries {
		resp, err := conn.ReadMsg()
		if err != nil {
			t.Fatalf("after replies %v: %v", order, err)
		}
		order = append(order, resp.Id)
		if resp.Id != 100 && len(resp.Answer) == 0 {
			t.Fatalf("reply %d is empty: %v", resp.Id, resp)
		}
		if len(order) == 2 && time.Since(sent) > 500*time.Millisecond {
			// Generous: the point is not waiting for the slow name's second.
			t.Fatalf("the packed names took %v behind the slow one", time.Since(sent))
		}
	}
	if order[2] != 100 || order[0] == order[1] {
		t.Fatalf("replies in the order %v; want 101 and 102 before 100", order)
	}
}
