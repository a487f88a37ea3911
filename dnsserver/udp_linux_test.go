package dnsserver

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/transport"
)

// The whole UDP round trip of a cached answer — the reader's recvmmsg, the
// fast path and the sendmmsg of the reply — allocates nothing in the
// server (the client here allocates nothing either).
func TestUDPReaderAllocatesNothing(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA) // cached
	c := dialUDP(t, h.addr)
	pkt, _ := withEDNS(question(listed, dns.TypeA), 1232, false).Pack()
	buf := make([]byte, 2048)
	roundTrip := func() {
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if n := testing.AllocsPerRun(200, roundTrip); n != 0 {
		t.Fatalf("%v allocations per cached UDP query", n)
	}
}

// A burst larger than one recvmmsg batch is read whole: the reader reads
// again after a full batch rather than waiting for a signal the kernel gave
// once for all the datagrams queued. The burst is runts, which get no reply
// (a reply's send would signal the socket again), and one query behind them;
// with one P it is all queued before the netpoller wakes the reader.
func TestUDPBurstBeyondOneBatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA) // cached
	c := dialUDP(t, h.addr)
	pkt, _ := question(listed, dns.TypeA).Pack()
	buf := make([]byte, 2048)
	for round := range 20 {
		for range 3*transport.BatchSize + 5 {
			if _, err := c.Write([]byte{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("round %d: the query behind the burst got no answer: %v", round, err)
		}
	}
}

// dialUDP is a client socket connected to addr, closed with the test.
func dialUDP(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A cached answer over a kept TCP connection allocates nothing either,
// the reply's recording included: the reader reuses its transport.Done.
func TestTCPReaderAllocatesNothing(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA) // cached
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pkt, _ := withEDNS(question(listed, dns.TypeA), 1232, false).Pack()
	if n := allocsPerRoundTrip(t, conn, pkt); n != 0 {
		t.Fatalf("%v allocations per cached TCP query", n)
	}
}

// allocsPerRoundTrip sends pkt framed on a stream and reads the framed
// reply, 200 times after a first, and returns the allocations per round
// trip in the whole process.
func allocsPerRoundTrip(t *testing.T, conn io.ReadWriter, pkt []byte) float64 {
	t.Helper()
	framed := append([]byte{byte(len(pkt) >> 8), byte(len(pkt))}, pkt...)
	buf := make([]byte, 2048)
	roundTrip := func() {
		if _, err := conn.Write(framed); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf[:2]); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf[:int(buf[0])<<8|int(buf[1])]); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	return testing.AllocsPerRun(200, roundTrip)
}
