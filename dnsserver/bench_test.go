package dnsserver

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/tap"
	"github.com/s3dns/s3dns/transport"
)

// BenchmarkServer measures whole queries over a loopback UDP socket: the
// client's cost is included, so compare the cases with each other.
func BenchmarkServer(b *testing.B) {
	cases := []struct{ name, qname string }{
		{"endpoint", "MySpecificBucket.s3.eu-west-2.amazonaws.com."},
		{"forward-hit", unlisted},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := start(b, baseConfig())
			conn, err := dns.Dial("udp", h.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			q := withEDNS(question(c.qname, dns.TypeA), 1232, false)
			h.query(b, c.qname, dns.TypeA)
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.WriteMsg(q); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.ReadMsg(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFastAnswer is the server's side of a hit alone.
func BenchmarkFastAnswer(b *testing.B) {
	h := start(b, baseConfig())
	h.query(b, listed, dns.TypeA)
	h.query(b, unlisted, dns.TypeA)
	st, sc := h.srv.State(), newScratch()
	for _, name := range []string{listed, unlisted} {
		b.Run(name, func(b *testing.B) {
			pkt, _ := withEDNS(question(name, dns.TypeA), 1232, false).Pack()
			client := clientLoopback
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := fastReply(h.srv, st, pkt, client, sc); !ok {
					b.Fatal("missed")
				}
			}
		})
	}
}

// BenchmarkMiss measures the full path: every query is a new name that
// goes to the (in-process, loopback) fake upstream.
func BenchmarkMiss(b *testing.B) {
	h := start(b, baseConfig())
	conn, err := dns.Dial("udp", h.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		q := question(fmt.Sprintf("n%d.miss.example.", i), dns.TypeA)
		if err := conn.WriteMsg(q); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ReadMsg(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeDatagram is the reader goroutine's whole work for a hit:
// the fast path plus counting (record), without the socket.
func BenchmarkServeDatagram(b *testing.B) {
	h := start(b, baseConfig())
	h.query(b, listed, dns.TypeA)
	h.query(b, unlisted, dns.TypeA)
	r := h.srv.newUDPReader()
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	for _, name := range []string{listed, unlisted} {
		b.Run(name, func(b *testing.B) {
			pkt, _ := withEDNS(question(name, dns.TypeA), 1232, false).Pack()
			dst := make([]byte, 0, 2048)
			b.ReportAllocs()
			for b.Loop() {
				if r.Answer(&transport.Datagram{Pkt: pkt, From: from, Local: from, Start: time.Now()}, dst) == nil {
					b.Fatal("missed")
				}
			}
		})
	}
}

// BenchmarkServeDatagramDnstap is BenchmarkServeDatagram with dnstap on for
// client messages (to a file): what the protobuf encoding costs per query.
func BenchmarkServeDatagramDnstap(b *testing.B) {
	sw := new(tap.Switch)
	t, err := tap.New(model.Dnstap{File: filepath.Join(b.TempDir(), "bench.dnstap"), Messages: []string{"client_query", "client_response"}},
		"bench", tap.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sw.Set(t)
	defer t.Close()
	h := startOpts(b, baseConfig(), Options{Tap: sw}, dnstest.NewUpstream(b, publicZone...))
	h.query(b, listed, dns.TypeA)
	r := h.srv.newUDPReader()
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	pkt, _ := withEDNS(question(listed, dns.TypeA), 1232, false).Pack()
	dst := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if r.Answer(&transport.Datagram{Pkt: pkt, From: from, Local: from, Start: time.Now()}, dst) == nil {
			b.Fatal("missed")
		}
	}
}
