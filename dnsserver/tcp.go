package dnsserver

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
)

// Reasons a TCP connection is closed at accept (s3dns_tcp_refused_total).
const (
	refusedACL       = "acl"        // the client is outside access.allow
	refusedPerClient = "per_client" // the client holds access.tcp_per_client already
	refusedLimit     = "limit"      // the server holds its connection cap already
)

// serveTCP accepts connections on ln. Admission happens here, before any
// byte is read: a client outside access.allow is closed at once, and no
// client address holds more than access.tcp_per_client connections, so
// that nobody can take every slot from everybody else.
func (s *Server) serveTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: back off instead of spinning.
			s.log.Warn("accepting a TCP connection failed", "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		client := addrOf(c.RemoteAddr())
		st := s.state.Load()
		if !st.allowed(client) {
			s.refuseConn(c, refusedACL)
			continue
		}
		if reason, ok := s.conns.add(c, client, s.opts.MaxTCPConns, st.Config.Access.TCPPerClient); !ok {
			s.refuseConn(c, reason)
			continue
		}
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			defer s.conns.remove(c, client)
			s.serveConn(c, client)
		}()
	}
}

// refuseConn closes a connection with a reset (no TIME_WAIT left behind for
// a flood) and counts it.
func (s *Server) refuseConn(c net.Conn, reason string) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
	s.metrics.TCPRefused.WithLabelValues(reason).Inc()
}

// serveConn reads the queries of one connection. Fast answers are written
// at once; misses run concurrently on the full path, each reply written
// when it is ready (RFC 7766 §6.2.1.1), at most maxPipelined at a time.
func (s *Server) serveConn(c net.Conn, client netip.Addr) {
	w := &tcpWriter{conn: c, timeout: s.opts.TCPReadTimeout}
	slots := make(chan struct{}, maxPipelined)
	var inflight sync.WaitGroup
	defer func() {
		inflight.Wait()
		c.Close()
	}()
	sc := newScratch()
	peer, local := addrPortOf(c.RemoteAddr()), addrPortOf(c.LocalAddr())
	var length [2]byte
	wait := s.opts.TCPReadTimeout // for the first query; then the idle timeout
	for !s.stopping.Load() {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if _, err := io.ReadFull(c, length[:]); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.opts.TCPReadTimeout))
		n := int(binary.BigEndian.Uint16(length[:]))
		sc.in = slices.Grow(sc.in[:0], n)[:n]
		if _, err := io.ReadFull(c, sc.in); err != nil {
			return
		}
		wait = s.opts.TCPIdleTimeout
		q := query{proto: metrics.TCP, client: client, peer: peer, local: local, start: time.Now()}
		st := s.state.Load()
		resp, done := s.serveFast(st, &q, sc.in, sc.out[:0], sc)
		if done {
			if resp != nil {
				s.send(st, &q, resp, w.write)
			}
			continue
		}
		slots <- struct{}{} // at maxPipelined, stop reading until one finishes
		full := q.detach(sc.in, sc)
		inflight.Add(1)
		if !s.goFull(func() {
			defer func() { <-slots; inflight.Done() }()
			s.serveFull(st, full, w.write)
		}) {
			<-slots
			inflight.Done()
			_ = w.write(s.overloaded(nil, st, full))
		}
	}
}

// overloaded records and returns SERVFAIL, for a miss that finds
// MaxFullPath queries already waiting: a quick answer beats a pile of
// goroutines.
func (s *Server) overloaded(dst []byte, st *State, q *query) []byte {
	q.rcode = rcodeServfail
	resp := wire.AppendError(dst, &q.msg, rcodeServfail)
	s.record(st, q, resp)
	return resp
}

// tcpWriter writes whole replies, one at a time, on a connection shared by
// the queries in flight on it.
type tcpWriter struct {
	mu      sync.Mutex
	conn    net.Conn
	buf     []byte
	timeout time.Duration
}

func (w *tcpWriter) write(b []byte) error {
	if len(b) > 0xffff {
		return errors.New("reply longer than a TCP message")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = binary.BigEndian.AppendUint16(w.buf[:0], uint16(len(b)))
	w.buf = append(w.buf, b...) // one write: length and message in one segment
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.conn.Write(w.buf)
	return err
}

// tcpConns tracks the open connections: how many each client holds, and
// which to stop and close at shutdown.
type tcpConns struct {
	mu        sync.Mutex
	perClient map[netip.Addr]int
	open      map[net.Conn]struct{}
	stopped   bool
}

// add takes a slot for c, or says why there is none.
func (t *tcpConns) add(c net.Conn, client netip.Addr, maxTotal, maxPerClient int) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.stopped || len(t.open) >= maxTotal:
		return refusedLimit, false
	case maxPerClient > 0 && t.perClient[client.WithZone("")] >= maxPerClient:
		return refusedPerClient, false
	}
	t.perClient[client.WithZone("")]++
	t.open[c] = struct{}{}
	return "", true
}

func (t *tcpConns) remove(c net.Conn, client netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, c)
	client = client.WithZone("")
	if t.perClient[client]--; t.perClient[client] <= 0 {
		delete(t.perClient, client)
	}
}

// stopReading ends every connection's wait for its next query; the answers
// in flight are still written.
func (t *tcpConns) stopReading() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for c := range t.open {
		_ = c.SetReadDeadline(time.Unix(1, 0))
	}
}

func (t *tcpConns) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.open {
		c.Close()
	}
}

// addrOf is the client address of a UDP or TCP peer, IPv4 unmapped.
func addrOf(a net.Addr) netip.Addr { return addrPortOf(a).Addr() }

// addrPortOf is a UDP or TCP address with its port, IPv4 unmapped.
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
