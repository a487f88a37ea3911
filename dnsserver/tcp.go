package dnsserver

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/wire"
)

// Reasons a TCP connection is closed at accept (s3dns_tcp_refused_total).
const (
	refusedACL       = "acl"        // the client is outside access.allow
	refusedPerClient = "per_client" // every one of the client's connections has work in flight
	refusedLimit     = "limit"      // the server holds its connection cap already
)

// Reasons a connection in use is closed (s3dns_tcp_closed_total); the
// stream closes for the first two itself.
const (
	closedWriteFailed = transport.ClosedWriteFailed
	closedQueueFull   = transport.ClosedQueueFull
	closedEvicted     = "evicted" // the client's oldest idle connection, for a new one
)

// tcpConn is an accepted TCP or DoT connection: the stream (package
// transport) and the transport its queries came over.
type tcpConn struct {
	*transport.Stream
	proto metrics.Proto // TCP, or TLS for DNS over TLS
}

// StopReading ends the wait for the next query (the server is stopping).
func (c *tcpConn) StopReading() { _ = c.SetReadDeadline(time.Unix(1, 0)) }

func (s *Server) newTCPConn(c net.Conn, proto metrics.Proto, client netip.Addr, limits model.TCP) *tcpConn {
	return &tcpConn{proto: proto, Stream: transport.NewStream(c, client, limits, func(reason string, err error) {
		s.metrics.TCPClosed.WithLabelValues(reason).Inc()
		s.log.Debug("closed a TCP connection", "client", client.String(), "reason", reason, "error", err)
	})}
}

// errRecorded tells send that the TCP writer records the query itself,
// once the reply is written or dropped.
var errRecorded = errors.New("recorded by the TCP writer")

// answered records one query once its TCP reply's fate is known (a reply
// never written is counted as a request without a response).
type answered struct {
	s  *Server
	st *State
	q  *query
}

func (a *answered) Written(resp []byte, err error) {
	if err != nil {
		a.s.log.Debug("writing reply failed", "client", a.q.client.String(), "error", err)
	}
	a.s.record(a.st, a.q, resp)
}

// Keep is a copy whose query outlives the reader's scratch space.
func (a *answered) Keep() transport.Done { return &answered{s: a.s, st: a.st, q: a.q.settled()} }

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
		tc := s.newTCPConn(c, proto, client, st.Config.TCP)
		if !s.admitConn(c, tc, st.Config.Access.TCPPerClient) {
			continue
		}
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

// admitConn takes a connection slot for h, whose socket is c, or resets c
// and counts why not; s3dns_tcp_connections counts it until it is given
// back. At its client's cap (perClient; 0: none) a pooled idle connection
// gives way to the new one: the client sees an orderly close, as after an
// idle timeout, counted first, so that whoever sees the close sees the
// count.
func (s *Server) admitConn(c net.Conn, h held, perClient int) bool {
	evicted, reason, ok := s.conns.add(h, s.opts.MaxTCPConns, perClient)
	if !ok {
		s.refuseConn(c, reason)
		return false
	}
	if evicted != nil {
		s.metrics.TCPClosed.WithLabelValues(closedEvicted).Inc()
		evicted.Shut()
	}
	s.metrics.TCPConnections.Inc()
	return true
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
	slots := make(chan struct{}, maxPipelined)
	defer func() {
		c.Pending.Wait() // every reply in flight or queued is written (or the connection broke)
		c.CloseGracefully()
	}()
	sc := newScratch()
	fast := &answered{s: s} // the reader's: its query lives in sc
	peer, local := transport.AddrPortOf(c.RemoteAddr()), transport.AddrPortOf(c.LocalAddr())
	wait := s.opts.TCPReadTimeout // for the first query; then the idle timeout
	for !s.stopping.Load() && !c.Broken() {
		pkt, err := c.ReadQuery(sc.in, wait, s.opts.TCPReadTimeout, s.stopping.Load)
		sc.in = pkt
		if err != nil {
			return
		}
		wait = c.Limits().IdleTimeout
		q := sc.query(origin{proto: c.proto, client: c.Client(), peer: peer, local: local, start: time.Now(), keepalive: c.Keepalive(),
			certNames: c.PeerNames()})
		st := s.state.Load()
		resp, done := s.serveFast(st, q, pkt, sc.out[:0], sc)
		if done {
			if resp != nil {
				fast.st, fast.q = st, q
				c.Deliver(resp, true, fast)
			} else {
				c.Settle(-1)
			}
			continue
		}
		slots <- struct{}{} // at maxPipelined, stop reading until one is answered
		full := s.detach(st, q)
		later := &answered{s: s, st: st, q: full}
		c.Pending.Add(1)
		if !s.goFull(func() {
			defer c.Pending.Done()
			// The slot goes back once: when the reply is handed over (the
			// next query may be read while it queues), or when the full path
			// ends without one.
			var release sync.Once
			defer release.Do(func() { <-slots })
			s.serveFull(st, full, func(b []byte) error {
				release.Do(func() { <-slots })
				c.Deliver(b, false, later)
				return errRecorded
			})
		}) {
			<-slots
			c.Pending.Done()
			c.Deliver(overloaded(nil, full), false, later)
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
