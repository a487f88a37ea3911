//go:build unix

package dnsserver

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// bigTXT is a TXT record of about size bytes under name.
func bigTXT(name string, size int) string {
	var b strings.Builder
	b.WriteString(name + " 300 IN TXT")
	for range size / 256 {
		b.WriteString(` "` + strings.Repeat("y", 255) + `"`)
	}
	return b.String()
}

// dialSmallBuffer connects with a 4 KB receive buffer, set before the
// handshake so that the advertised window stays small: a client that can
// hold little and then stops reading.
func dialSmallBuffer(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pipeline writes one query per ID for name without reading anything.
func pipeline(t *testing.T, c net.Conn, name string, qtype uint16, ids int) {
	t.Helper()
	var out []byte
	for id := 1; id <= ids; id++ {
		m := question(name, qtype)
		m.Id = uint16(id)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
}

// readFrames reads length-prefixed messages until the stream ends, and
// checks that every whole one is a reply to one of ids for name: a length
// read out of record data would not be.
func readFrames(t *testing.T, c net.Conn, name string, ids int) (whole int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	seen := map[uint16]bool{}
	var length [2]byte
	for {
		if _, err := io.ReadFull(c, length[:]); err != nil {
			return whole
		}
		frame := make([]byte, binary.BigEndian.Uint16(length[:]))
		if _, err := io.ReadFull(c, frame); err != nil {
			return whole // the last frame was cut short: nothing may follow it
		}
		m := new(dns.Msg)
		if err := m.Unpack(frame); err != nil {
			t.Fatalf("frame %d (%d bytes) is not a DNS message: %v", whole+1, len(frame), err)
		}
		if m.Id < 1 || int(m.Id) > ids || seen[m.Id] || len(m.Question) != 1 || !strings.EqualFold(m.Question[0].Name, name) {
			t.Fatalf("frame %d is not a reply to one of the queries: %v", whole+1, m)
		}
		seen[m.Id] = true
		whole++
	}
}

const bigName = "big.example."

// Item 1 (RFC 7766 §8): a reply that cannot be written whole ends the
// connection at once; the client reads whole replies, then the end of the
// stream, never a frame after a partial one.
func TestPartialReplyEndsConnection(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t, append([]string{bigTXT(bigName, 63000)}, publicZone...)...)
	up.SetMode(dnstest.Truncate, 0) // the 63 KB answer comes over TCP
	h := startWith(t, shortTCP(), up)
	if resp := h.ask(t, "tcp", question(bigName, dns.TypeTXT)); len(resp.Answer) != 1 {
		t.Fatalf("big TXT: %v", resp)
	}
	conn := dialSmallBuffer(t, h.addr)
	pipeline(t, conn, bigName, dns.TypeTXT, 50) // cached: answered at once, faster than read
	closed := func() float64 { return testutil.ToFloat64(h.metrics.TCPClosed.WithLabelValues(closedWriteFailed)) }
	dnstest.WaitFor(t, "the connection closed for its failed write", 5*time.Second, func() bool { return closed() == 1 })
	// Others are served meanwhile.
	if resp := h.ask(t, "tcp", question(listed, dns.TypeA)); len(resp.Answer) != 3 {
		t.Fatalf("another client: %v", resp)
	}
	// Item 7: every query is recorded once its reply's fate is known; the
	// replies that were not written whole (the one cut short and those
	// queued behind it) are counted as requests, never as responses sent
	// (nor tapped as such).
	dnstest.WaitFor(t, "every query recorded", 5*time.Second, func() bool { return total(t, h.metrics.Requests) == 52 })
	unsent := total(t, h.metrics.Requests) - total(t, h.metrics.Responses)
	whole := readFrames(t, conn, bigName, 50)
	if whole >= 50 {
		t.Fatalf("all %d replies arrived: the client was expected to stall the server", whole)
	}
	if unsent < 1 || unsent > 50-float64(whole) {
		t.Fatalf("%v requests without a response; the client read %d of 50 whole", unsent, whole)
	}
	dnstest.WaitFor(t, "no TCP connection open", 5*time.Second, func() bool { return testutil.ToFloat64(h.metrics.TCPConnections) == 0 })
}

// Item 2: a client that never reads cannot hold a connection: it is closed
// once writes stall for tcp.write_timeout, or once tcp.max_queued replies
// wait, whichever comes first, however many queries it pipelined.
func TestClientThatNeverReads(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	const slow = 10
	for _, c := range []struct {
		name   string
		tcp    map[string]any
		reason string
	}{
		{"writes stall", map[string]any{"write_timeout": "300ms", "max_queued": 1000}, closedWriteFailed},
		{"replies queue up", map[string]any{"write_timeout": "1m", "max_queued": 4}, closedQueueFull},
		// Above the 32 queries a connection may have in flight (issue 30,
		// item 5): the reader keeps reading while a write waits, so the
		// queue can reach what tcp.max_queued says.
		{"more replies queue up than queries may be in flight", map[string]any{"write_timeout": "1m", "max_queued": 100}, closedQueueFull},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := dnstest.NewUpstream(t, append([]string{bigTXT(bigName, 63000)}, publicZone...)...)
			up.SetMode(dnstest.Truncate, 0)
			for i := range slow {
				name := fmt.Sprintf("slow%d.example.", i)
				up.Add(t, name+" 60 IN A 192.0.2.1")
				up.DelayName(name, 200*time.Millisecond)
			}
			h := startWith(t, baseConfig().with(func(sc *serverConfig) { sc.TCP = c.tcp }), up)
			h.ask(t, "tcp", question(bigName, dns.TypeTXT)) // cached: answered at once from now on
			conn := dialSmallBuffer(t, h.addr)
			// Misses whose replies come late, then 300 big answers that
			// clog the connection long before: the late replies queue up.
			var out []byte
			for id := 1; id <= slow+300; id++ {
				m := question(bigName, dns.TypeTXT)
				if id <= slow {
					m = question(fmt.Sprintf("slow%d.example.", id-1), dns.TypeA)
				}
				m.Id = uint16(id)
				b, _ := m.Pack()
				out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
				out = append(out, b...)
			}
			go conn.Write(out) // may block: the server stops reading while its writes wait
			closed := func() float64 { return testutil.ToFloat64(h.metrics.TCPClosed.WithLabelValues(c.reason)) }
			dnstest.WaitFor(t, "the connection closed ("+c.reason+")", 10*time.Second, func() bool { return closed() == 1 })
			dnstest.WaitFor(t, "no TCP connection open", 5*time.Second, func() bool { return testutil.ToFloat64(h.metrics.TCPConnections) == 0 })
		})
	}
}

// frame packs m with its TCP length prefix.
func frame(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// A connection with a query in flight is not idle (RFC 7766 §6.2.3): a
// second query sent after the idle timeout, while the first still waits for
// its upstream, is read and answered; the idle clock starts with the last
// reply, and the close that ends it is orderly (FIN), never a reset that
// would discard replies the client has not read (issue 30, item 3).
func TestIdleTimeoutOnlyWithNothingInFlight(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	const slowName = "slow.example."
	up := dnstest.NewUpstream(t, append([]string{slowName + " 60 IN A 192.0.2.9"}, publicZone...)...)
	up.DelayName(slowName, 1500*time.Millisecond)
	h := startWith(t, baseConfig().with(func(c *serverConfig) {
		c.TCP, c.UpstreamTimeout = map[string]any{"idle_timeout": "600ms"}, "3s"
	}), up)
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	slow := question(slowName, dns.TypeA)
	slow.Id = 1
	start := time.Now()
	if _, err := conn.Write(frame(t, slow)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(900 * time.Millisecond) // past the idle timeout, the first query still upstream
	second := question(unlisted, dns.TypeA)
	second.Id = 2
	if _, err := conn.Write(frame(t, second)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := map[uint16]bool{}
	for range 2 {
		var length [2]byte
		if _, err := io.ReadFull(conn, length[:]); err != nil {
			t.Fatalf("after %v, with replies %v: %v", time.Since(start), got, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(length[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			t.Fatal(err)
		}
		var m dns.Msg
		if err := m.Unpack(b); err != nil || len(m.Answer) == 0 {
			t.Fatalf("reply: %v %v", &m, err)
		}
		got[m.Id] = true
	}
	if !got[1] || !got[2] {
		t.Fatalf("replies %v, want both", got)
	}
	answered := time.Now()
	// Then idle: closed in order once the idle timeout passes.
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || err != io.EOF {
		t.Fatalf("after the last reply: %d bytes, %v; want an orderly close (EOF)", n, err)
	}
	if idle := time.Since(answered); idle < 300*time.Millisecond {
		t.Fatalf("closed %v after the last reply: the idle clock did not start there", idle)
	}
}

// Every pipelined query gets its reply, however the replies race for the
// socket: hits written by the reader, misses by full-path goroutines, some
// queued behind others. A reply queued just as the writer let go of the
// socket was once left unwritten until the next reply came (and lost when
// none did: dnsperf counted 122 of 500,000 lost).
func TestEveryPipelinedReplyArrives(t *testing.T) {
	up := dnstest.NewUpstream(t, publicZone...)
	for i := range 50 {
		up.Add(t, fmt.Sprintf("m%d.example. 60 IN A 192.0.2.%d", i, i+1))
	}
	// 100 queries arrive at once: on a loaded machine more than the default
	// 64 replies can wait for the writer, which closes the connection as
	// max_queued says (TestClientThatNeverReads); here only loss counts.
	h := startWith(t, baseConfig().with(func(c *serverConfig) { c.TCP = map[string]any{"max_queued": 1000} }), up)
	h.ask(t, "tcp", question(listed, dns.TypeA)) // a hit from now on
	for round := range 20 {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		const n = 100
		for id := 1; id <= n; id++ {
			m := question(listed, dns.TypeA)
			if id%2 == 0 { // a miss every other query, each name new this round
				m = question(fmt.Sprintf("r%d-m%d.example.", round, id/2%50), dns.TypeA)
			}
			m.Id = uint16(id)
			out = append(out, frame(t, m)...)
		}
		if _, err := conn.Write(out); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		seen := map[uint16]bool{}
		for len(seen) < n {
			var length [2]byte
			if _, err := io.ReadFull(conn, length[:]); err != nil {
				t.Fatalf("round %d: %d of %d replies, then %v", round, len(seen), n, err)
			}
			b := make([]byte, binary.BigEndian.Uint16(length[:]))
			if _, err := io.ReadFull(conn, b); err != nil {
				t.Fatal(err)
			}
			var m dns.Msg
			if err := m.Unpack(b); err != nil {
				t.Fatal(err)
			}
			seen[m.Id] = true
		}
		conn.Close()
	}
}
