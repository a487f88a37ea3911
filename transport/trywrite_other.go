//go:build !unix

package transport

import "net"

// TryWrite writes b (elsewhere than on Unix, waiting for room as needed).
func TryWrite(c net.Conn, b []byte) (int, error) { return c.Write(b) }
