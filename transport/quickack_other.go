//go:build !linux

package transport

import "net"

// withQuickAck is a Linux socket option; elsewhere connections are as
// they come.
func withQuickAck(c net.Conn) net.Conn { return c }
