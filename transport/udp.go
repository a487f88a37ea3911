package transport

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// QueryBuffer bounds a query datagram; longer ones are dropped (real
// queries are a few hundred bytes at most).
const QueryBuffer = 4096

// Datagram is one query as a UDP reader hands it to the flow. Pkt and the
// addresses are the reader's until Answer returns; Reply keeps what a
// later answer needs.
type Datagram struct {
	Pkt   []byte
	From  netip.AddrPort
	Local netip.AddrPort // the address it was sent to (a wildcard socket's packet info)
	Start time.Time      // when its batch was read
	sock  *udpSocket
	name  *sockaddr // the sockaddr the kernel gave (an IPv6 scope included), on Linux
	nlen  uint32
	oob   []byte // the reply's source address, on a wildcard socket
}

// Reader is the flow as one UDP reader sees it: Answer returns the reply
// to send at once, written into dst, or nil for none now (no reply at all,
// or one the flow sends later through d.Reply).
type Reader interface {
	Answer(d *Datagram, dst []byte) []byte
}

// Options are what every UDP reader shares.
type Options struct {
	Log *slog.Logger
	// Stopping reports that the server is shutting down: a failed read
	// then ends the reader.
	Stopping func() bool
}

// readStops says whether a failed read ends the reader (the socket is
// closing); other failures are logged and reading goes on.
func (o Options) readStops(err error) bool {
	if o.Stopping() || errors.Is(err, net.ErrClosed) {
		return true
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		o.Log.Debug("UDP read failed", "error", err)
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

// Reply sends one later reply (the full path's) to where d came from: the
// very sockaddr, and from the address d was sent to on a wildcard socket.
func (d *Datagram) Reply() *Reply {
	r := &Reply{sock: d.sock, addr: d.From, oob: append([]byte(nil), d.oob...)}
	if d.name != nil {
		r.name, r.namelen = *d.name, d.nlen
	}
	return r
}

// Reply is where a later reply goes (Write: udp_linux.go, udp_other.go).
type Reply struct {
	sock    *udpSocket
	addr    netip.AddrPort
	name    sockaddr
	namelen uint32
	oob     []byte
	replySys
}
