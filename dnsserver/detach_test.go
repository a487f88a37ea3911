package dnsserver

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
)

// The full path's query is made again from a copy of the packet (detach):
// it must be the very query the fast path admitted — same question, same
// decision, same ECS scope — and share no memory with the reader's packet
// or scratch space, which the reader reuses for the next packet at once.
func TestBothSpeedsSeeTheSameQuery(t *testing.T) {
	s := fuzzServer(t)
	st := s.State()
	ecs := func(m *dns.Msg, prefix string) *dns.Msg {
		p := netip.MustParsePrefix(prefix)
		m.SetEdns0(1232, false)
		opt := m.IsEdns0()
		family := uint16(1)
		if p.Addr().Is6() {
			family = 2
		}
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
			SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
		return m
	}
	keepalive := func(m *dns.Msg) *dns.Msg {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
		return m
	}
	norecurse := func(m *dns.Msg) *dns.Msg { m.RecursionDesired = false; return m }
	flags := func(m *dns.Msg) *dns.Msg { m.CheckingDisabled = true; m.SetEdns0(1232, true); return m }
	queries := []*dns.Msg{
		question("myspecificbucket.s3.eu-west-2.amazonaws.com.", dns.TypeA),
		question("Logs-1.S3.EU-West-2.amazonaws.com.", dns.TypeAAAA),
		question("anything.s3.us-east-1.amazonaws.com.", dns.TypeA),
		question("otherbucket.s3.eu-west-2.amazonaws.com.", dns.TypeTXT),
		question(`we\.ird\000.example.`, dns.TypeA), // a name that needs escapes: a string of its own
		flags(question("www.example.", dns.TypeA)),
		norecurse(question("vpce-1.s3.eu-west-2.vpce.amazonaws.com.", dns.TypeA)), // the endpoint's own hostname
		ecs(question("logs-2.s3.eu-west-2.amazonaws.com.", dns.TypeA), "127.0.0.0/24"),
		ecs(question("www.example.", dns.TypeA), "127.0.0.2/32"),
		keepalive(question("myspecificbucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)),
	}
	origins := []origin{{proto: metrics.TCP, keepalive: 100}, {proto: metrics.UDP}}
	compared := 0
	for _, m := range queries {
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range origins {
			for _, client := range fuzzClients {
				o.client = client
				sc := newScratch()
				in := append(sc.in[:0], pkt...)
				q := sc.query(o)
				if s.admit(st, q, in, sc) != admitted {
					continue
				}
				want := fmt.Sprintf("%#v", *q)
				full := s.detach(st, q)
				// The reader goes on to its next packet.
				for _, b := range [][]byte{in, sc.lname[:cap(sc.lname)], sc.dotted[:cap(sc.dotted)]} {
					for i := range b {
						b[i] = 0xff
					}
				}
				sc.query(origin{})
				if got := fmt.Sprintf("%#v", *full); got != want {
					t.Errorf("%s from %v over %v:\nfast %s\nfull %s", m.Question[0].Name, client, o.proto, want, got)
				}
				if !bytes.Equal(full.pkt, pkt) {
					t.Errorf("%s: the full path's packet changed with the reader's", m.Question[0].Name)
				}
				compared++
			}
		}
	}
	if compared < len(queries)*len(origins)*2 {
		t.Fatalf("only %d queries were admitted to compare", compared)
	}
}
