package dnsserver

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/s3dns/s3dns/metrics"
)

// udpQueryBuffer bounds a query datagram; longer ones are dropped (real
// queries are a few hundred bytes at most).
const udpQueryBuffer = 4096

// serveDatagram runs the flow for one datagram from addr and returns the
// reply to send from the reader's batch, written into dst, or nil. A miss
// goes to the full path, which sends its reply itself (from oob's source
// address on a wildcard socket).
func (s *Server) serveDatagram(st *State, conn *net.UDPConn, pkt []byte, addr, local netip.AddrPort, oob []byte,
	start time.Time, dst []byte, sc *scratch) []byte {
	q := query{proto: metrics.UDP, client: addr.Addr().Unmap(), peer: addr, local: local, start: start}
	resp, done := s.serveFast(st, &q, pkt, dst, sc)
	if done {
		if resp != nil {
			s.record(st, &q, resp)
		}
		return resp
	}
	full := q.detach(pkt, sc)
	w := &udpReply{conn: conn, addr: addr, oob: bytes.Clone(oob)}
	if s.goFull(func() { s.serveFull(st, full, w.write) }) {
		return nil
	}
	resp = overloaded(dst, full)
	s.record(st, full, resp)
	return resp
}

// readStops says whether a failed read ends the reader (the socket is
// closing); other failures are logged and reading goes on.
func (s *Server) readStops(err error) bool {
	if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
		return true
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		s.log.Debug("UDP read failed", "error", err)
	}
	return false
}

// udpReply sends one full-path reply.
type udpReply struct {
	conn *net.UDPConn
	addr netip.AddrPort
	oob  []byte // the reply's source address, on a wildcard socket
}

func (w *udpReply) write(b []byte) error {
	_, _, err := w.conn.WriteMsgUDPAddrPort(b, w.oob, w.addr)
	return err
}
