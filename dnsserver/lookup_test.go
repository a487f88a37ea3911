package dnsserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/s3dns/s3dns/model"
)

// A reload that lists a bucket must win over its cached public answer, even
// on the fast path.
func TestReloadBeatsCachedPublicAnswer(t *testing.T) {
	h := start(t, baseConfig())
	if resp := h.query(t, unlisted, dns.TypeA); resp.Authoritative || len(resp.Answer) != 1 {
		t.Fatalf("before: %v", resp)
	}
	h.query(t, unlisted, dns.TypeA) // now a cache hit
	cfg := *h.srv.State().Config
	cfg.Endpoints = append([]model.Endpoint(nil), cfg.Endpoints...)
	cfg.Endpoints[0].Buckets = append([]string{"otherbucket"}, cfg.Endpoints[0].Buckets...)
	h.srv.Swap(h.stateFor(&cfg))
	resp := h.query(t, unlisted, dns.TypeA)
	if !resp.Authoritative || resp.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("after listing it: %v", resp)
	}
}

func TestFastPathEchoesFlags(t *testing.T) {
	h := start(t, baseConfig())
	for _, name := range []string{listed, unlisted} {
		h.query(t, name, dns.TypeA) // fill
		q := question(name, dns.TypeA)
		q.RecursionDesired = false
		q.CheckingDisabled = true
		resp := h.ask(t, "udp", q)
		if resp.RecursionDesired || !resp.CheckingDisabled || !resp.RecursionAvailable || resp.Id != q.Id {
			t.Fatalf("%s: header %v", name, resp.MsgHdr)
		}
	}
}

var clientLoopback = netip.MustParseAddr("127.0.0.1")

func TestFastPathAllocatesNothing(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA)
	h.query(t, unlisted, dns.TypeA)
	st, sc := h.srv.State(), newScratch()
	client := netip.MustParseAddr("127.0.0.1")
	for _, name := range []string{"MySpecificBucket.s3.eu-west-2.amazonaws.com.", unlisted} {
		q := withEDNS(question(name, dns.TypeA), 1232, false)
		pkt, _ := q.Pack()
		if _, ok := fastReply(h.srv, st, pkt, client, sc); !ok {
			t.Fatalf("%s: not answered on the fast path", name)
		}
		if n := testing.AllocsPerRun(200, func() { fastReply(h.srv, st, pkt, client, sc) }); n != 0 {
			t.Errorf("%s: %v allocations per query", name, n)
		}
	}
}

// AAAA for a listed bucket whose endpoint has no IPv6 is as common as A:
// the NODATA answer is served from the fast path too, counting down.
func TestEndpointNoDataOnTheFastPath(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Endpoints[0].TTL = "300s" }))
	first := h.query(t, listed, dns.TypeTXT) // the fake has no TXT for the endpoint: NODATA with SOA
	if len(first.Answer) != 1 || len(first.Ns) != 1 {
		t.Fatalf("first: %v", first)
	}
	pkt, _ := question(listed, dns.TypeTXT).Pack()
	r, ok := fastReply(h.srv, h.srv.State(), pkt, clientLoopback, newScratch())
	if !ok {
		t.Fatal("NODATA endpoint answer not on the fast path")
	}
	var resp dns.Msg
	if err := resp.Unpack(r); err != nil || len(resp.Answer) != 1 || len(resp.Ns) != 1 || !resp.Authoritative {
		t.Fatalf("fast NODATA: %v %v", &resp, err)
	}
	// The SOA's negative TTL (dnstest.Soa: MINIMUM 120 s), not the endpoint's 300 s, bounds it.
	h.clock.Add(119 * time.Second)
	if _, ok := fastReply(h.srv, h.srv.State(), pkt, clientLoopback, newScratch()); !ok {
		t.Fatal("dropped before the SOA's negative TTL")
	}
	h.clock.Add(2 * time.Second)
	if _, ok := fastReply(h.srv, h.srv.State(), pkt, clientLoopback, newScratch()); ok {
		t.Fatal("kept past the SOA's negative TTL")
	}
}
