package dnsserver

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func tcpOpts() Options {
	return Options{TCPReadTimeout: 300 * time.Millisecond, TCPIdleTimeout: 300 * time.Millisecond, MaxTCPConns: 3}
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
	h := startOpts(t, baseConfig(), tcpOpts(), dnstest.NewUpstream(t, publicZone...))
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
	h := startOpts(t, baseConfig(), Options{MaxTCPConns: 3, TCPIdleTimeout: time.Minute, TCPReadTimeout: time.Minute}, dnstest.NewUpstream(t, publicZone...))
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// Make sure the three are accepted before the fourth arrives.
	time.Sleep(100 * time.Millisecond)
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
	h := startOpts(t, baseConfig(), tcpOpts(), dnstest.NewUpstream(t, publicZone...))
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
