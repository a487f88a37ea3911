package dnsserver

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// The whole UDP round trip of a cached answer — the reader's recvmmsg, the
// fast path and the sendmmsg of the reply — allocates nothing in the
// server (the client here allocates nothing either).
func TestUDPReaderAllocatesNothing(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA)
	raddr, err := net.ResolveUDPAddr("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt, _ := withEDNS(question(listed, dns.TypeA), 1232, false).Pack()
	buf := make([]byte, 2048)
	roundTrip := func() {
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if n := testing.AllocsPerRun(200, roundTrip); n != 0 {
		t.Fatalf("%v allocations per cached UDP query", n)
	}
}
