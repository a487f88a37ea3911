package tap

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
)

var (
	client   = netip.MustParseAddrPort("127.0.0.9:40000")
	server   = netip.MustParseAddrPort("127.0.0.1:53")
	upstream = netip.MustParseAddrPort("[::1]:5300")
	local    = netip.MustParseAddrPort("[::1]:41000")
	asked    = time.Unix(1_700_000_000, 123)
	answered = asked.Add(time.Millisecond)
)

func all(out model.Dnstap) model.Dnstap {
	out.Messages = model.DnstapMessages
	out.Identity, out.Version = "test-host", "test-version"
	return out
}

func decode(t *testing.T, frames [][]byte) []*dnstap.Dnstap {
	t.Helper()
	var out []*dnstap.Dnstap
	for _, f := range frames {
		d := new(dnstap.Dnstap)
		if err := proto.Unmarshal(f, d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func readFile(t *testing.T, file string) [][]byte {
	t.Helper()
	in, err := dnstap.NewFrameStreamInputFromFilename(file)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 100)
	go func() { in.ReadInto(ch); close(ch) }()
	var frames [][]byte
	for f := range ch {
		frames = append(frames, f)
	}
	return frames
}

// What each message carries, as the dnstap schema defines it, read back
// with golang-dnstap's own reader.
func TestMessagesToAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s3dns.dnstap")
	tp, err := New(all(model.Dnstap{File: file}), "v1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	tp.Client(UDP, client, server, []byte("query-bytes"), []byte("reply-bytes"), asked, answered)
	tp.Forwarder(TCP, local, upstream, []byte("up-query"), nil, asked, answered) // no reply came
	tp.Close()
	got := decode(t, readFile(t, file))
	want := []struct {
		typ           dnstap.Message_Type
		family        dnstap.SocketFamily
		protocol      dnstap.SocketProtocol
		from, to      netip.AddrPort
		query, answer string
	}{
		{dnstap.Message_CLIENT_QUERY, dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP, client, server, "query-bytes", ""},
		{dnstap.Message_CLIENT_RESPONSE, dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP, client, server, "", "reply-bytes"},
		{dnstap.Message_FORWARDER_QUERY, dnstap.SocketFamily_INET6, dnstap.SocketProtocol_TCP, local, upstream, "up-query", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		d, m := got[i], got[i].Message
		from := netip.AddrPortFrom(netip.AddrFrom16([16]byte(pad16(m.QueryAddress))).Unmap(), uint16(m.GetQueryPort()))
		to := netip.AddrPortFrom(netip.AddrFrom16([16]byte(pad16(m.ResponseAddress))).Unmap(), uint16(m.GetResponsePort()))
		if string(d.Identity) != "test-host" || string(d.Version) != "test-version" || d.GetType() != dnstap.Dnstap_MESSAGE ||
			m.GetType() != w.typ || m.GetSocketFamily() != w.family || m.GetSocketProtocol() != w.protocol ||
			from != w.from || to != w.to || string(m.QueryMessage) != w.query || string(m.ResponseMessage) != w.answer ||
			m.GetQueryTimeSec() != uint64(asked.Unix()) || m.GetQueryTimeNsec() != uint32(asked.Nanosecond()) {
			t.Errorf("message %d: %v", i, d)
		}
	}
}

// pad16 turns a 4- or 16-byte address into 16 bytes.
func pad16(b []byte) []byte {
	if len(b) == 4 {
		a := netip.AddrFrom4([4]byte(b)).As16()
		return a[:]
	}
	return b
}

// A collector that accepts and then never reads costs DNS nothing: sending
// never blocks, and what does not fit is dropped and counted.
func TestStalledCollectorDrops(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	dnstest.Stalled(t, "unix", sock)
	var dropped atomic.Int64
	tp, err := New(all(model.Dnstap{Socket: sock}), "v1", Options{Buffer: 16, OnDrop: func() { dropped.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range 5000 {
			tp.Client(UDP, client, server, bytes.Repeat([]byte{1}, 100), bytes.Repeat([]byte{2}, 200), asked, answered)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("sending blocked behind a stalled collector")
	}
	if dropped.Load() == 0 {
		t.Fatal("no message counted as dropped")
	}
	go tp.Close()
}

// collector is a real Frame Streams dnstap collector (golang-dnstap's) on
// a Unix socket; stop closes its listener and every connection, as a
// collector that exits does.
type collector struct {
	net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	frames chan []byte
}

func startCollector(t *testing.T, sock string) *collector {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{Listener: ln, frames: make(chan []byte, 1000)}
	go dnstap.NewFrameStreamSockInput(c).ReadInto(c.frames)
	t.Cleanup(c.stop)
	return c
}

func (c *collector) Accept() (net.Conn, error) {
	conn, err := c.Listener.Accept()
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *collector) stop() {
	c.Listener.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
}

// A collector that goes away and comes back gets messages again, and each
// change of the output's state is logged once, the error included.
func TestCollectorRestart(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	first := startCollector(t, sock)
	logs := &dnstest.SyncBuffer{}
	tp, err := New(all(model.Dnstap{Socket: sock}), "v1", Options{RetryInterval: 100 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { go tp.Close() }()
	receive := func(c *collector, what string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			tp.Client(TCP, client, server, []byte("q"), []byte("r"), asked, answered)
			select {
			case <-c.frames:
				return
			case <-deadline:
				t.Fatalf("%s: no message received", what)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	receive(first, "first collector")
	first.stop()
	// Messages meanwhile are lost: nobody listens.
	dnstest.WaitFor(t, "the reconnecting state logged", 10*time.Second, func() bool {
		tp.Client(TCP, client, server, []byte("q"), []byte("r"), asked, answered)
		return strings.Contains(logs.String(), "dnstap output reconnecting")
	})
	second := startCollector(t, sock) // the same socket path, as a restarted collector
	receive(second, "restarted collector")
	var states []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		switch {
		case strings.Contains(line, "dnstap output connected"):
			states = append(states, "connected")
		case strings.Contains(line, "dnstap output reconnecting") && strings.Contains(line, "error=") && strings.Contains(line, sock):
			states = append(states, "reconnecting")
		default:
			t.Errorf("unexpected log line: %s", line)
		}
	}
	if got := strings.Join(states, ", "); got != "connected, reconnecting, connected" {
		t.Fatalf("states logged: %s\n%s", got, logs.String())
	}
}
