package dnsserver

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
)

// Reasons a TCP connection is closed at accept (s3dns_tcp_refused_total).
const (
	refusedACL       = "acl"        // the client is outside access.allow
	refusedPerClient = "per_client" // every one of the client's connections has work in flight
	refusedLimit     = "limit"      // the server holds its connection cap already
)

// Reasons a connection in use is closed (s3dns_tcp_closed_total).
const (
	closedWriteFailed = "write_failed" // a reply could not be written whole in time
	closedQueueFull   = "queue_full"   // tcp.max_queued replies waited for a client that does not read
	closedEvicted     = "evicted"      // the client's oldest idle connection, for a new one
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
		tc := newTCPConn(c, client, st.Config.TCP)
		evicted, reason, ok := s.conns.add(tc, s.opts.MaxTCPConns, st.Config.Access.TCPPerClient)
		if !ok {
			s.refuseConn(c, reason)
			continue
		}
		if evicted != nil {
			// A pooled idle connection gives way to the new one; the client
			// sees an orderly close, as after an idle timeout. Counted
			// first, so that whoever sees the close sees the count.
			s.metrics.TCPClosed.WithLabelValues(closedEvicted).Inc()
			evicted.shut()
		}
		s.metrics.TCPConnections.Inc()
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			defer s.metrics.TCPConnections.Dec()
			defer s.conns.remove(tc)
			s.serveConn(tc)
		}()
	}
}

// refuseConn counts a connection and closes it with a reset (no TIME_WAIT
// left behind for a flood).
func (s *Server) refuseConn(c net.Conn, reason string) {
	s.metrics.TCPRefused.WithLabelValues(reason).Inc()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// serveConn reads the queries of one connection. Fast answers are written
// at once; misses run concurrently on the full path, each reply written
// when it is ready (RFC 7766 §6.2.1.1), at most maxPipelined at a time.
func (s *Server) serveConn(c *tcpConn) {
	c.startReplies(s)
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
	for !s.stopping.Load() && !c.broken.Load() {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if _, err := io.ReadFull(c, length[:]); err != nil {
			return
		}
		c.owed.Add(1) // from here on the connection is not idle
		_ = c.SetReadDeadline(time.Now().Add(s.opts.TCPReadTimeout))
		n := int(binary.BigEndian.Uint16(length[:]))
		sc.in = slices.Grow(sc.in[:0], n)[:n]
		if _, err := io.ReadFull(c, sc.in); err != nil {
			return
		}
		wait = c.limits.IdleTimeout
		q := query{proto: metrics.TCP, client: c.client, peer: peer, local: local, start: time.Now(), keepalive: c.keepalive()}
		st := s.state.Load()
		resp, done := s.serveFast(st, &q, sc.in, sc.out[:0], sc)
		if done {
			if resp != nil {
				s.send(st, &q, resp, c.reply)
			} else {
				c.owed.Add(-1)
			}
			continue
		}
		slots <- struct{}{} // at maxPipelined, stop reading until one finishes
		full := q.detach(sc.in, sc)
		inflight.Add(1)
		if !s.goFull(func() {
			defer func() { <-slots; inflight.Done() }()
			s.serveFull(st, full, c.reply)
		}) {
			<-slots
			inflight.Done()
			s.send(st, full, overloaded(nil, full), c.reply)
		}
	}
}

// overloaded returns SERVFAIL, for a miss that finds MaxFullPath queries
// already waiting: a quick answer beats a pile of goroutines.
func overloaded(dst []byte, q *query) []byte {
	q.rcode = rcodeServfail
	return wire.AppendError(dst, &q.msg, rcodeServfail)
}

// tcpConn is one accepted connection and the replies it owes. Replies are
// written whole, one at a time; a reply that cannot be written whole ends
// the connection at once, so that no frame ever follows a partial one
// (RFC 7766 §8).
type tcpConn struct {
	net.Conn
	client netip.Addr
	limits config.TCP
	// owed counts queries read whose replies are not written yet: a
	// connection with none is idle, and may give way to a new one.
	owed atomic.Int32
	// waiting counts replies queued behind the one being written.
	waiting atomic.Int32
	broken  atomic.Bool

	mu  sync.Mutex // one writer at a time
	buf []byte
	// reply is write as send wants it: counted and logged when the
	// connection is closed for it.
	reply func([]byte) error
}

func newTCPConn(c net.Conn, client netip.Addr, limits config.TCP) *tcpConn {
	return &tcpConn{Conn: c, client: client, limits: limits}
}

// keepalive is the idle timeout in edns-tcp-keepalive's 100 ms units
// (config validation keeps it within 16 bits).
func (c *tcpConn) keepalive() uint16 {
	return uint16(max(c.limits.IdleTimeout/(100*time.Millisecond), 1))
}

// startReplies makes c.reply; once per connection, not per query.
func (c *tcpConn) startReplies(s *Server) {
	c.reply = func(b []byte) error {
		defer c.owed.Add(-1)
		reason, err := c.write(b)
		if reason != "" {
			s.metrics.TCPClosed.WithLabelValues(reason).Inc()
			s.log.Debug("closed a TCP connection", "client", c.client.String(), "reason", reason, "error", err)
		}
		return err
	}
}

var (
	errQueueFull = errors.New("too many replies wait for a client that does not read")
	errClosed    = errors.New("the connection was closed")
)

// write sends one reply with its length prefix, whole or not at all. When
// it closes the connection it says why.
func (c *tcpConn) write(b []byte) (closedFor string, err error) {
	if len(b) > 0xffff {
		return "", errors.New("reply longer than a TCP message")
	}
	if c.broken.Load() {
		return "", errClosed
	}
	if c.waiting.Add(1) > int32(c.limits.MaxQueued) {
		c.waiting.Add(-1)
		return c.fail(closedQueueFull, errQueueFull)
	}
	c.mu.Lock()
	c.waiting.Add(-1)
	defer c.mu.Unlock()
	if c.broken.Load() {
		return "", errClosed
	}
	c.buf = binary.BigEndian.AppendUint16(c.buf[:0], uint16(len(b)))
	c.buf = append(c.buf, b...) // one write: length and message in one segment
	_ = c.SetWriteDeadline(time.Now().Add(c.limits.WriteTimeout))
	n, err := c.Conn.Write(c.buf)
	if err == nil && n < len(c.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return c.fail(closedWriteFailed, err)
	}
	return "", nil
}

// fail closes the connection at once, with a reset: bytes of a partial
// reply must never be followed by another frame. Only the first failure
// names a reason.
func (c *tcpConn) fail(reason string, err error) (string, error) {
	if !c.broken.CompareAndSwap(false, true) {
		return "", err
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Conn.Close()
	return reason, err
}

// shut ends an idle connection in order (FIN), ahead of its reader.
func (c *tcpConn) shut() {
	if c.broken.CompareAndSwap(false, true) {
		c.Conn.Close()
	}
}

// tcpConns tracks the open connections: which each client holds, and
// which to stop and close at shutdown.
type tcpConns struct {
	mu        sync.Mutex
	perClient map[netip.Addr][]*tcpConn // oldest first
	open      map[*tcpConn]struct{}
	stopped   bool
}

// add takes a slot for c, or says why there is none. At the per-client
// cap the client's oldest connection with nothing in flight gives its slot
// to c (evicted, for the caller to close): a resolver's pool of idle
// connections must never lock it out.
func (t *tcpConns) add(c *tcpConn, maxTotal, maxPerClient int) (evicted *tcpConn, reason string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := c.client.WithZone("")
	held := t.perClient[key]
	switch {
	case t.stopped:
		return nil, refusedLimit, false
	case maxPerClient > 0 && len(held) >= maxPerClient:
		i := slices.IndexFunc(held, func(o *tcpConn) bool { return o.owed.Load() == 0 })
		if i < 0 {
			return nil, refusedPerClient, false
		}
		evicted = held[i]
		t.drop(evicted)
	case len(t.open) >= maxTotal:
		return nil, refusedLimit, false
	}
	t.perClient[key] = append(t.perClient[key], c)
	t.open[c] = struct{}{}
	return evicted, "", true
}

func (t *tcpConns) remove(c *tcpConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(c)
}

// drop forgets c, if it is still held.
func (t *tcpConns) drop(c *tcpConn) {
	if _, ok := t.open[c]; !ok {
		return
	}
	delete(t.open, c)
	key := c.client.WithZone("")
	held := slices.DeleteFunc(t.perClient[key], func(o *tcpConn) bool { return o == c })
	if len(held) == 0 {
		delete(t.perClient, key)
	} else {
		t.perClient[key] = held
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
