package transport

import (
	"net"
	"strconv"
	"testing"
)

// The DoT and DoH listeners follow the plain listeners' family rule:
// "0.0.0.0:P" and "[::]:P" bind side by side, each on its own family (Go's
// "tcp" would make the first dual-stack and the second fail); a bad
// address binds none of them.
func TestListenStreamsFamilies(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	} else {
		ln.Close()
	}
	probe, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()
	lns, err := ListenStreams("0.0.0.0:"+port, "[::]:"+port)
	if err != nil {
		t.Fatalf("IPv4 and IPv6 wildcards side by side: %v", err)
	}
	for _, ln := range lns {
		defer ln.Close()
	}
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := net.Dial("tcp", net.JoinHostPort(host, port))
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		c.Close()
	}

	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := first.Addr().String()
	first.Close()
	if _, err := ListenStreams(free, "127.0.0.1:notaport"); err == nil {
		t.Fatal("a bad address bound")
	}
	again, err := net.Listen("tcp", free)
	if err != nil {
		t.Fatalf("the good address stayed bound after the bad one failed: %v", err)
	}
	again.Close()
}
