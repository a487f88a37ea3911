package upstream

import (
	"syscall"
	"time"
)

// Every UDP query leaves from a source port of its own, picked at random by
// the kernel for that query alone, and the port is given up when the
// exchange ends (RFC 5452 §9.2): a port is open only while its one query
// waits, so a forger who infers open ports (the SAD DNS side channel,
// CVE-2020-25705) learns nothing about the next query, which still has a
// fresh port and a fresh ID to guess. The kernel drops datagrams from any
// address but the upstream's.
//
// On Linux the socket itself outlives its query: connecting an unbound UDP
// socket binds it to a random ephemeral port, and disconnecting it
// (connect to AF_UNSPEC) releases that port, so that the next connect binds
// a new random one. A query then costs two system calls (connect,
// disconnect) instead of the six of opening, registering with the
// netpoller, unregistering and closing a socket, and nothing is allocated.
// A socket whose exchange failed is closed, never reused: a late reply
// must not meet the next query. Elsewhere every query opens a socket.

// packetSocket is what an exchange needs of its socket (*net.UDPConn, or
// *os.File for a raw socket on Linux).
type packetSocket interface {
	SetReadDeadline(time.Time) error
	SyscallConn() (syscall.RawConn, error)
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
}

// upstreamSocket is a socket while it carries a query.
type upstreamSocket struct {
	packetSocket
	raw syscall.RawConn
	v6  bool
	sys // what the system's own code keeps per socket
}
