package dnsserver

import (
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/transport"
)

// udpReader is the flow's side of one UDP reader (package transport reads
// and writes the datagrams): its scratch space, one per reader.
type udpReader struct {
	s  *Server
	sc *scratch
}

func (s *Server) newUDPReader() *udpReader { return &udpReader{s: s, sc: newScratch()} }

// Answer runs the flow for one datagram and returns the reply to send from
// the reader's batch, written into dst, or nil. A miss goes to the full
// path, which sends its reply itself (d.Reply).
func (r *udpReader) Answer(d *transport.Datagram, dst []byte) []byte {
	s, st := r.s, r.s.state.Load()
	q := r.sc.query(origin{proto: metrics.UDP, client: d.From.Addr().Unmap(), peer: d.From, local: d.Local, start: d.Start})
	resp, done := s.serveFast(st, q, d.Pkt, dst, r.sc)
	if done {
		if resp != nil {
			s.record(st, q, resp)
		}
		return resp
	}
	full := s.detach(st, q)
	w := d.Reply()
	if s.goFull(func() { s.serveFull(st, full, w.Write) }) {
		return nil
	}
	resp = overloaded(dst, full)
	s.record(st, full, resp)
	return resp
}
