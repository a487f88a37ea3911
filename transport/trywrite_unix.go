//go:build unix

package transport

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// TryWrite writes as much of b as the socket takes now, without waiting
// for room: the reader must never stop reading for a client that does not.
func TryWrite(c net.Conn, b []byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c.Write(b)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), b)
		return true // done, even when the socket is full: the rest queues
	}); err != nil {
		return 0, err
	}
	switch {
	case errors.Is(werr, unix.EAGAIN), errors.Is(werr, unix.EINTR):
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
