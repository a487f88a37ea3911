//go:build unix

package transport

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryWriter writes as much as a socket takes now, without waiting for
// room: a stream's reader must never stop reading for a client that does
// not. Its raw connection and write function are made once per stream (a
// function passed to RawConn escapes: made per write, it would be
// allocated per write).
type tryWriter struct {
	conn net.Conn
	raw  syscall.RawConn // nil: not a socket of the system's (TLS): writes wait
	buf  []byte
	n    int
	err  error
	fn   func(fd uintptr) bool
}

func newTryWriter(c net.Conn) *tryWriter {
	w := &tryWriter{conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	w.fn = func(fd uintptr) bool {
		w.n, w.err = unix.Write(int(fd), w.buf)
		return true // done, even when the socket is full: the rest queues
	}
	return w
}

// waits reports whether write waits for room (TLS: not a system socket).
func (w *tryWriter) waits() bool { return w.raw == nil }

// write writes what of b the socket takes now.
func (w *tryWriter) write(b []byte) (int, error) {
	if w.raw == nil {
		return w.conn.Write(b)
	}
	w.buf, w.n, w.err = b, 0, nil
	err := w.raw.Write(w.fn)
	w.buf = nil
	switch {
	case err != nil:
		return 0, err
	case errors.Is(w.err, unix.EAGAIN), errors.Is(w.err, unix.EINTR):
		return 0, nil
	case w.err != nil:
		return 0, w.err
	}
	return w.n, nil
}
