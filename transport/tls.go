package transport

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Handshakes is what a TLS listener does around each handshake: its time
// limit, and who is told how it went.
type Handshakes struct {
	Timeout time.Duration
	OK      func()
	Failed  func(peer net.Addr, err error)
}

// DoTListener accepts TLS connections on ln, each one's handshake run on
// its first read: on the connection's own goroutine, so that a slow client
// delays nobody else (and the flow can refuse a client before any
// handshake work).
func DoTListener(ln net.Listener, cfg *tls.Config, h Handshakes) net.Listener {
	return &handshaking{Listener: tls.NewListener(ln, cfg), h: h}
}

type handshaking struct {
	net.Listener
	h Handshakes
}

func (l *handshaking) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &LazyHandshake{Conn: c.(*tls.Conn), h: l.h}, nil
}

// LazyHandshake runs the handshake on the connection's first read, within
// the handshake timeout.
type LazyHandshake struct {
	*tls.Conn
	h     Handshakes
	done  bool
	names []string // the verified client certificate's, once done
}

// PeerNames are the verified client certificate's names (nil: none), known
// once the first read has done the handshake.
func (c *LazyHandshake) PeerNames() []string { return c.names }

func (c *LazyHandshake) Read(b []byte) (int, error) {
	if !c.done {
		c.done = true
		ctx, cancel := context.WithTimeout(context.Background(), c.h.Timeout)
		err := c.Conn.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.h.Failed(c.RemoteAddr(), err)
			return 0, err
		}
		c.h.OK()
		c.names = PeerNames(c.Conn.ConnectionState())
	}
	return c.Conn.Read(b)
}

// Reset closes c with a reset (SO_LINGER 0: no TIME_WAIT left behind for a
// flood), a TLS connection's TCP one under it, before any handshake.
func Reset(c net.Conn) {
	raw := c
	if l, ok := raw.(*LazyHandshake); ok {
		raw = l.Conn
	}
	if t, ok := raw.(*tls.Conn); ok {
		raw = t.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
