package dnsserver

import (
	"net"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// wildcardPort finds a port free on every IPv4 and IPv6 address, for UDP
// and TCP; skipped (saying why) where the host has no IPv6.
func wildcardPort(t *testing.T) int {
	t.Helper()
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	} else {
		ln.Close()
	}
	for range 20 {
		pc, err := net.ListenPacket("udp", ":0") // both families
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no port free on every address")
	return 0
}

// As in BIND and Unbound, "0.0.0.0:P" listens on IPv4 only and "[::]:P" on
// IPv6 only, so the two bind side by side (issue 31, item 1: the packaged
// configuration lists both and could not start), and each answers on its
// own family over UDP and TCP.
func TestIPv4AndIPv6WildcardsBindSideBySide(t *testing.T) {
	port := strconv.Itoa(wildcardPort(t))
	startWith(t, baseConfig().with(func(c *serverConfig) { c.Listen = []string{"0.0.0.0:" + port, "[::]:" + port} }))
	for _, server := range []string{"127.0.0.1", "::1"} {
		for _, network := range []string{"udp", "tcp"} {
			resp, _, err := (&dns.Client{Net: network}).Exchange(question(listed, dns.TypeA), net.JoinHostPort(server, port))
			if err != nil || len(resp.Answer) == 0 {
				t.Errorf("%s over %s: %v %v", server, network, resp, err)
			}
		}
	}
}
