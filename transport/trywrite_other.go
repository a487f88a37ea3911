//go:build !unix

package transport

import "net"

// tryWriter writes (elsewhere than on Unix, waiting for room as needed).
type tryWriter struct{ conn net.Conn }

func newTryWriter(c net.Conn) *tryWriter { return &tryWriter{conn: c} }

// waits reports whether write waits for room: always, here.
func (w *tryWriter) waits() bool { return true }

func (w *tryWriter) write(b []byte) (int, error) { return w.conn.Write(b) }
