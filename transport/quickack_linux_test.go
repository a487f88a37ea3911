package transport

import (
	"crypto/tls"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A DoH connection acknowledges each read at once: after ping-pong traffic
// the kernel delays ACKs (what holds a Nagle client's second write for 40
// ms), and the wrapped connection's read turns quick ACKs back on.
func TestQuickAckAfterEveryRead(t *testing.T) {
	client, accepted := tcpPair(t)
	quickAck := func() int {
		raw, _ := accepted.(*net.TCPConn).SyscallConn()
		v := -1
		_ = raw.Control(func(fd uintptr) { v, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK) })
		return v
	}
	buf := make([]byte, 16)
	pingPong := func(server net.Conn) {
		for range 20 { // requests answered at once: the kernel's cue for delayed ACKs
			if _, err := client.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			if _, err := server.Read(buf); err != nil {
				t.Fatal(err)
			}
			if _, err := server.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Read(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	pingPong(accepted)
	if quickAck() != 0 {
		t.Skip("this kernel did not switch to delayed ACKs after ping-pong traffic: nothing to check")
	}
	wrapped := withQuickAck(accepted)
	pingPong(wrapped)
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := wrapped.Read(buf); err != nil {
		t.Fatal(err)
	}
	if got := quickAck(); got != 1 {
		t.Errorf("TCP_QUICKACK %d after a read of the wrapped connection, want 1", got)
	}
}

// DoH's listener hands net/http connections that quick-ACK.
func TestDoHConnectionsQuickAck(t *testing.T) {
	pki, certs, ln := tlsFixture(t)
	hl := newHandshaken(ln, certs.Config("h2"), Handshakes{Timeout: 5 * time.Second, OK: func() {},
		Failed: func(_ net.Addr, err error) { t.Errorf("handshake: %v", err) }})
	defer hl.Close()
	pool := pki.Pool()
	clientTLS := &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}}
	go func() {
		if c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1)) // until the server closes
		}
	}()
	c, err := hl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*tls.Conn).NetConn().(*quickAcking); !ok {
		t.Errorf("the DoH connection is a %T under TLS, not quick-ACKing", c.(*tls.Conn).NetConn())
	}
}

// socketGiver is a connection wrapped by its server that still gives its
// socket, as the server's admitted DoH connections do.
type socketGiver struct{ net.Conn }

func (s socketGiver) SyscallConn() (syscall.RawConn, error) {
	return s.Conn.(syscall.Conn).SyscallConn()
}

// A wrapped connection that gives its socket quick-ACKs too, and the
// wrapper is found under it (NetConn); one that does not is left alone.
func TestQuickAckThroughAWrapper(t *testing.T) {
	_, accepted := tcpPair(t)
	giver := socketGiver{accepted}
	q, ok := withQuickAck(giver).(*quickAcking)
	if !ok || q.NetConn() != net.Conn(giver) {
		t.Fatalf("a wrapper giving its socket was not quick-ACKed: %T", withQuickAck(giver))
	}
	opaque := struct{ net.Conn }{accepted}
	if _, ok := withQuickAck(opaque).(*quickAcking); ok {
		t.Fatal("a wrapper without its socket was wrapped")
	}
}

// tcpPair is a connected TCP pair on loopback, closed when t ends.
func tcpPair(t *testing.T) (client, accepted net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if accepted, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accepted.Close() })
	return client, accepted
}
