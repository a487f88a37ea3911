package dnsserver

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/transport"
)

// dohConn is a DoH connection as admission holds it: the raw TCP
// connection under TLS (or under cleartext HTTP for listen_http), admitted
// at accept like a TCP or DoT one, before its handshake. Its slot goes
// back when it closes, whoever closes it.
type dohConn struct {
	net.Conn
	s      *Server
	client netip.Addr
	h2     atomic.Pointer[transport.H2] // once it chose HTTP/2
	busy   atomic.Int32                 // HTTP/1.1: 1 unless net/http waits for its next request
	closed sync.Once
}

func (d *dohConn) Client() netip.Addr { return d.client }

// Owed is what holds the connection: over HTTP/2 its open streams; over
// HTTP/1.1 a request in progress; before either, its handshake.
func (d *dohConn) Owed() int32 {
	if h := d.h2.Load(); h != nil {
		return int32(h.Open())
	}
	return d.busy.Load()
}

// Shut closes the connection in order for a newer one of its client's:
// HTTP/2 says GOAWAY; HTTP/1.1's wait for its next request ends, and
// net/http closes it.
func (d *dohConn) Shut() { d.StopReading() }

// StopReading ends the wait for the next request: HTTP/2 says GOAWAY and
// writes what it owes. At shutdown net/http stops HTTP/1.1 connections
// itself, after their request in progress.
func (d *dohConn) StopReading() {
	if h := d.h2.Load(); h != nil {
		h.Stop()
		return
	}
	if !d.s.stopping.Load() {
		_ = d.SetReadDeadline(time.Unix(1, 0))
	}
}

func (d *dohConn) Close() error {
	err := d.Conn.Close()
	d.closed.Do(func() {
		d.s.conns.remove(d)
		d.s.metrics.TCPConnections.Dec()
	})
	return err
}

// CloseWrite half-closes the socket: net/http's orderly close of a
// cleartext (listen_http) connection needs it, as it would of the socket.
func (d *dohConn) CloseWrite() error {
	if cw, ok := d.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SyscallConn gives the socket, for the quick ACKs DoH reads set.
func (d *dohConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := d.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// dohOf finds the admitted connection under c (TLS, quick ACKs), or nil.
func dohOf(c net.Conn) *dohConn {
	for {
		if d, ok := c.(*dohConn); ok {
			return d
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
}

// trackHTTP1 follows net/http's view of a connection: one waiting for its
// next request has nothing in flight and may give way.
func trackHTTP1(c net.Conn, state http.ConnState) {
	d := dohOf(c)
	if d == nil {
		return
	}
	switch state {
	case http.StateIdle:
		d.busy.Store(0)
	case http.StateActive:
		d.busy.Store(1)
	}
}

// admittingDoH admits a DoH listener's connections as serveTCP admits TCP
// ones, before a byte is read: a client outside access.allow is reset, and
// one client address holds at most access.tcp_per_client connections of
// the server's cap. A trusted proxy is let in and has no per-client cap:
// its connections carry many clients, each admitted by its own address.
type admittingDoH struct {
	net.Listener
	s       *Server
	trusted []netip.Prefix
}

func (l *admittingDoH) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		client := addrOf(c.RemoteAddr())
		st := s.state.Load()
		proxy := model.Holds(l.trusted, client)
		if !proxy && !st.allowed(client) {
			s.refuseConn(c, refusedACL)
			continue
		}
		perClient := st.Config.Access.TCPPerClient
		if proxy {
			perClient = 0
		}
		d := &dohConn{Conn: c, s: s, client: client}
		d.busy.Store(1)
		if s.admitConn(c, d, perClient) {
			return d, nil
		}
	}
}
