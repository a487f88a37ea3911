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
	"github.com/s3dns/s3dns/transport"
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
func (s *Server) serveTCP(ln net.Listener, proto metrics.Proto) {
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
		tc := newTCPConn(c, proto, client, st.Config.TCP)
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
		if proto == metrics.TLS {
			s.metrics.TLSConnections.WithLabelValues(proto.String()).Inc()
		}
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			defer s.metrics.TCPConnections.Dec()
			if proto == metrics.TLS {
				defer s.metrics.TLSConnections.WithLabelValues(proto.String()).Dec()
			}
			defer s.conns.remove(tc)
			s.serveConn(tc)
		}()
	}
}

// refuseConn counts a connection and closes it with a reset (no TIME_WAIT
// left behind for a flood).
func (s *Server) refuseConn(c net.Conn, reason string) {
	s.metrics.TCPRefused.WithLabelValues(reason).Inc()
	transport.Reset(c)
}

// serveConn reads the queries of one connection. Fast answers are written
// at once; misses run concurrently on the full path, each reply written
// when it is ready (RFC 7766 §6.2.1.1), at most maxPipelined at a time.
// The idle timeout runs only while nothing is in flight (§6.2.3): a
// connection waiting for an answer is not idle.
func (s *Server) serveConn(c *tcpConn) {
	c.srv = s
	slots := make(chan struct{}, maxPipelined)
	defer func() {
		c.pending.Wait() // every reply in flight or queued is written (or the connection broke)
		c.closeGracefully()
	}()
	sc := newScratch()
	peer, local := transport.AddrPortOf(c.RemoteAddr()), transport.AddrPortOf(c.LocalAddr())
	var length [2]byte
	wait := s.opts.TCPReadTimeout // for the first query; then the idle timeout
	for !s.stopping.Load() && !c.broken.Load() {
		c.awaitQuery(wait)
		if s.stopping.Load() {
			return // Shutdown's deadline may have been overwritten above
		}
		_, err := io.ReadFull(c, length[:])
		c.readingQuery()
		if err != nil {
			return
		}
		c.owed.Add(1) // from here on the connection is not idle
		_ = c.SetReadDeadline(time.Now().Add(s.opts.TCPReadTimeout))
		n := int(binary.BigEndian.Uint16(length[:]))
		sc.in = slices.Grow(sc.in[:0], n)[:n]
		if _, err := io.ReadFull(c, sc.in); err != nil {
			c.owed.Add(-1)
			return
		}
		wait = c.limits.IdleTimeout
		q := sc.query(origin{proto: c.proto, client: c.client, peer: peer, local: local, start: time.Now(), keepalive: c.keepalive(),
			certNames: c.peerNames()})
		st := s.state.Load()
		resp, done := s.serveFast(st, q, sc.in, sc.out[:0], sc)
		if done {
			if resp != nil {
				c.deliver(st, q, resp, true)
			} else {
				c.settle(-1)
			}
			continue
		}
		slots <- struct{}{} // at maxPipelined, stop reading until one is answered
		full := s.detach(st, q)
		c.pending.Add(1)
		if !s.goFull(func() {
			defer c.pending.Done()
			// The slot goes back once: when the reply is handed over (the
			// next query may be read while it queues), or when the full path
			// ends without one.
			var release sync.Once
			defer release.Do(func() { <-slots })
			s.serveFull(st, full, func(b []byte) error {
				release.Do(func() { <-slots })
				c.deliver(st, full, b, false)
				return errRecorded
			})
		}) {
			<-slots
			c.pending.Done()
			c.deliver(st, full, overloaded(nil, full), false)
		}
	}
}

// overloaded returns SERVFAIL, for a miss that finds MaxFullPath queries
// already waiting: a quick answer beats a pile of goroutines.
func overloaded(dst []byte, q *query) []byte {
	q.rcode = rcodeServfail
	return wire.AppendError(dst, &q.msg, rcodeServfail)
}

// addrOf is the client address of a UDP or TCP peer, IPv4 unmapped.
func addrOf(a net.Addr) netip.Addr { return transport.AddrPortOf(a).Addr() }
