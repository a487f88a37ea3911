package dnsserver

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/s3dns/s3dns/metrics"
)

// udpQueryBuffer bounds a query datagram; longer ones are dropped (real
// queries are a few hundred bytes at most).
const udpQueryBuffer = 4096

// serveDatagram runs the flow for one datagram from `from` and returns the
// reply to send from the reader's batch, written into dst, or nil. A miss
// goes to the full path, which sends its reply itself (from oob's source
// address on a wildcard socket).
func (s *Server) serveDatagram(st *State, sock *udpSocket, pkt []byte, from udpPeer, local netip.AddrPort, oob []byte,
	start time.Time, dst []byte, sc *scratch) []byte {
	addr := from.addr
	q := sc.query(origin{proto: metrics.UDP, client: addr.Addr().Unmap(), peer: addr, local: local, start: start})
	resp, done := s.serveFast(st, q, pkt, dst, sc)
	if done {
		if resp != nil {
			s.record(st, q, resp)
		}
		return resp
	}
	full := s.detach(st, q)
	w := &udpReply{sock: sock, addr: addr, oob: bytes.Clone(oob)}
	if from.name != nil {
		w.name, w.namelen = *from.name, from.namelen
	}
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

// udpSocket is a listening socket, with its raw form for the system calls
// udp_linux.go makes itself.
type udpSocket struct {
	conn *net.UDPConn
	raw  syscall.RawConn
}

// sockaddr holds a struct sockaddr_in or sockaddr_in6 as the kernel fills it.
type sockaddr [28]byte

// udpPeer is where a datagram came from: its address and, from the Linux
// reader, the sockaddr the kernel gave (an IPv6 scope included).
type udpPeer struct {
	addr    netip.AddrPort
	name    *sockaddr
	namelen uint32
}

// udpReply sends one full-path reply (write: udp_linux.go, udp_other.go):
// to the very sockaddr the query came from when there is one.
type udpReply struct {
	sock    *udpSocket
	addr    netip.AddrPort
	name    sockaddr
	namelen uint32
	oob     []byte // the reply's source address, on a wildcard socket
}
