package dnsserver

import (
	"crypto/tls"
	"time"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/wire"
)

// goDoH2 serves a DoH connection that chose HTTP/2 on a goroutine of its
// own; it is called from the listener's goroutine, which s.done counts.
func (s *Server) goDoH2(h *dohHandler) func(*tls.Conn) {
	return func(tc *tls.Conn) {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			s.serveDoH2(tc, h)
		}()
	}
}

// serveDoH2 reads one HTTP/2 connection's requests, as serveConn reads a
// TCP connection's queries: fast answers are framed at once and written
// together when the reader waits, misses run on the full path, each reply
// written when ready, at most maxPipelined at a time.
func (s *Server) serveDoH2(tc *tls.Conn, h *dohHandler) {
	limits := s.state.Load().Config.TCP
	c := transport.NewH2(tc, limits, limits.IdleTimeout, s.opts.TCPReadTimeout, s.stopping.Load)
	if d := dohOf(tc); d != nil {
		d.h2.Store(c) // its slot is held by its streams now; shutdown stops it through the slot
	}
	open := s.metrics.TLSConnections.WithLabelValues(metrics.HTTPS.String())
	open.Inc()
	defer open.Dec()
	defer func() {
		c.Pending.Wait()
		c.Close()
	}()
	if err := c.Start(); err != nil {
		s.log.Debug("DoH connection ended before its preface", "client", tc.RemoteAddr().String(), "error", err)
		return
	}
	slots := make(chan struct{}, maxPipelined)
	sc := newScratch()
	peer, local := transport.AddrPortOf(c.RemoteAddr()), transport.AddrPortOf(c.LocalAddr())
	names := c.PeerNames()
	for {
		req, err := c.Next()
		if err != nil {
			return
		}
		client := h.clientOf(peer, req.Forwarded, req.XForwardedFor)
		q := sc.query(origin{proto: metrics.HTTPS, client: client.Addr().Unmap(), peer: client, local: local, start: time.Now(), certNames: names})
		st := s.state.Load()
		resp, done := s.serveFast(st, q, req.Msg, sc.out[:0], sc)
		if done {
			s.replyDoH2(c, st, q, req.Stream, resp, true)
			continue
		}
		slots <- struct{}{} // at maxPipelined, stop reading until one is answered
		full, id := s.detach(st, q), req.Stream
		c.Pending.Add(1)
		if !s.goFull(func() {
			defer c.Pending.Done()
			defer func() { <-slots }()
			s.serveFull(st, full, func(b []byte) error {
				return c.Reply(id, b, wire.MinTTL(b), false)
			})
		}) {
			<-slots
			c.Pending.Done()
			s.replyDoH2(c, st, full, id, overloaded(nil, full), false)
		}
	}
}

// replyDoH2 sends a reply and records the query; no reply (a query
// dropped, which admission counted) is a 400, as over HTTP/1.1.
func (s *Server) replyDoH2(c *transport.H2, st *State, q *query, stream uint32, resp []byte, fromReader bool) {
	if resp == nil {
		c.Refuse(stream, transport.RefuseNoAnswer)
		return
	}
	if err := c.Reply(stream, resp, wire.MinTTL(resp), fromReader); err != nil {
		resp = nil
	}
	s.record(st, q, resp)
}
