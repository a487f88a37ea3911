package transport

import (
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// echo answers every datagram with itself, the QR bit set: a flow that is
// all fast path.
type echo struct{}

func (echo) Answer(d *Datagram, dst []byte) []byte {
	if len(d.Pkt) < 12 {
		return nil
	}
	dst = append(dst, d.Pkt...)
	dst[2] |= 0x80
	return dst
}

// The readers' reports are judged by window: the one reader's every few
// milliseconds, spread readers' over a second.
func TestSteerJudgesWindows(t *testing.T) {
	b, err := Listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.UDP) != 2 {
		t.Fatalf("%d sockets", len(b.UDP))
	}
	g := NewGroup(b.UDP, slog.New(slog.DiscardHandler))
	if g.fixed.Load() {
		t.Fatal("the kernel refused the steering program")
	}
	t0 := g.epoch
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const ms = time.Millisecond
	g.answered(0, 1, at(0), at(4*ms)) // the window is not over
	if g.spread.Load() {
		t.Fatal("spread before the window ended")
	}
	g.answered(0, 1, at(5*ms), at(11*ms)) // 10 ms busy of 11
	if !g.spread.Load() {
		t.Fatal("a reader busy 90 % of the time was left alone")
	}
	t1 := at(11 * ms)
	g.answered(1, 1, t1.Add(100*ms), t1.Add(400*ms)) // the second is not over
	g.answered(0, 1, t1.Add(900*ms), t1.Add(1000*ms))
	if !g.spread.Load() {
		t.Fatal("readers busy 40 % of a second together were gathered")
	}
	t2 := t1.Add(1000 * ms)
	g.answered(1, 1, t2.Add(800*ms), t2.Add(1001*ms)) // 20 %
	if g.spread.Load() {
		t.Fatal("readers busy 20 % of a second together were left spread")
	}
	if got := g.readers[0].datagrams.Load() + g.readers[1].datagrams.Load(); got != 5 {
		t.Fatalf("%d datagrams counted, want 5", got)
	}
}

// The kernel follows the steering: one reader takes the datagrams of every
// client while the group is gathered, and both get some once it is spread.
func TestSteerMovesDatagrams(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	b, err := Listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	var stopping atomic.Bool
	defer func() { stopping.Store(true); b.Close() }()
	g := NewGroup(b.UDP, slog.New(slog.DiscardHandler))
	if len(g.socks) != 2 || g.fixed.Load() {
		t.Fatalf("%d sockets, fixed %v", len(g.socks), g.fixed.Load())
	}
	for i, conn := range b.UDP {
		go ServeUDP(conn, false, g, i, echo{}, Options{Log: slog.New(slog.DiscardHandler), Stopping: stopping.Load})
	}
	addr := b.UDP[0].LocalAddr().String()
	fromManyPorts := func() {
		t.Helper()
		for range 40 {
			c := &dns.Client{Timeout: 2 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion("example.", dns.TypeA)
			if _, _, err := c.Exchange(m, addr); err != nil {
				t.Fatal(err)
			}
		}
	}
	fromManyPorts()
	// A reader counts its batch after the batch's replies are sent: the
	// last reply can reach the client before its datagram is counted.
	dnstest.WaitFor(t, "the 40 datagrams counted", 5*time.Second, func() bool {
		return g.readers[0].datagrams.Load()+g.readers[1].datagrams.Load() >= 40
	})
	first, second := g.readers[0].datagrams.Load(), g.readers[1].datagrams.Load()
	if first < 40 || second != 0 {
		t.Fatalf("gathered: the readers read %d and %d datagrams, want all on the first", first, second)
	}
	if err := steer(g.socks[0], true); err != nil {
		t.Fatal(err)
	}
	g.spread.Store(true)
	g.judged.Store(int64(time.Since(g.epoch))) // not judged again during the test
	fromManyPorts()
	dnstest.WaitFor(t, "the next 40 datagrams counted", 5*time.Second, func() bool {
		return g.readers[0].datagrams.Load()+g.readers[1].datagrams.Load() >= first+40
	})
	if g.readers[0].datagrams.Load() == first || g.readers[1].datagrams.Load() == 0 {
		t.Fatalf("spread: the readers read %d and %d more datagrams from 40 ports",
			g.readers[0].datagrams.Load()-first, g.readers[1].datagrams.Load())
	}
}
