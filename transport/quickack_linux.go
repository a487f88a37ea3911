package transport

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// quickAcking acknowledges small reads at once (TCP_QUICKACK, which the
// kernel clears again by itself, so it is set after each such read). A DoH
// client that sends a POST's HEADERS and DATA frames in two writes without
// TCP_NODELAY (dnsperf does) holds the DATA back until the HEADERS are
// acknowledged; with the kernel's delayed ACK that is 40 ms per query. A
// large read needs no help: the replies to what it brought carry the ACK
// soon, and the system call is saved where it would cost most, under load.
type quickAcking struct {
	net.Conn
	raw syscall.RawConn
	set func(fd uintptr) // bound once: a closure per read would allocate
}

// quickAckBelow is the read size under which the ACK is sent at once: a
// few small TLS records (one HEADERS frame is about 50 octets).
const quickAckBelow = 512

// withQuickAck wraps a TCP connection, or a wrapper of one that gives its
// socket (syscall.Conn: the server's admitted connections do).
func withQuickAck(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAcking{Conn: c, raw: raw}
	q.set = func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1) }
	return q
}

// NetConn is the connection under it, as tls.Conn's.
func (c *quickAcking) NetConn() net.Conn { return c.Conn }

func (c *quickAcking) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && n < quickAckBelow {
		_ = c.raw.Control(c.set)
	}
	return n, err
}
