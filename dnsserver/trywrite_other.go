//go:build !unix

package dnsserver

import "net"

// tryWrite writes b (elsewhere than on Unix, waiting for room as needed).
func tryWrite(c net.Conn, b []byte) (int, error) { return c.Write(b) }
