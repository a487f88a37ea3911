package dnsserver

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// quickAcking acknowledges every read at once (TCP_QUICKACK, which the
// kernel clears again by itself, so it is set after each read). A DoH
// client that sends a POST's HEADERS and DATA frames in two writes without
// TCP_NODELAY (dnsperf does) holds the DATA back until the HEADERS are
// acknowledged; with the kernel's delayed ACK that is 40 ms per query.
type quickAcking struct {
	net.Conn
	raw syscall.RawConn
	set func(fd uintptr) // bound once: a closure per read would allocate
}

func withQuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAcking{Conn: c, raw: raw}
	q.set = func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1) }
	return q
}

func (c *quickAcking) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		_ = c.raw.Control(c.set)
	}
	return n, err
}
