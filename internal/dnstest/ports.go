package dnstest

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address whose port was free for both UDP and
// TCP a moment ago, for a process or server that must be told its port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no free port for UDP and TCP")
	return ""
}
