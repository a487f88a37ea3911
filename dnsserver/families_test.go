package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
)

const (
	expressRegional = "vpce-x.s3express.us-east-1.vpce.amazonaws.com."
	expressAZ4      = "vpce-x-us-east-1a.s3express.us-east-1.vpce.amazonaws.com."
	mrapHost        = "vpce-m.accesspoint.s3-global.vpce.amazonaws.com."
	vectorsHost     = "vpce-v.s3vectors.us-east-1.vpce.amazonaws.com."
)

// familiesConfig serves S3 Express (a zonal hostname for use1-az4 only), a
// Multi-Region Access Point and S3 Vectors (under api.aws).
func familiesConfig() serverConfig {
	return serverConfig{Endpoints: []serverEndpoint{
		{Name: "s3x", Service: "s3express", Region: "us-east-1", Hostname: expressRegional,
			ZonalHostnames: map[string]string{"use1-az4": expressAZ4}, Buckets: []string{"analytics--use1-az4--x-s3", "tmp-*--x-s3"}},
		{Name: "mrap", Service: "s3-global.accesspoint", Hostname: mrapHost, MRAPs: []string{"mfzwi23gnjvgw"}},
		{Name: "vectors", Service: "s3vectors", Region: "us-east-1", Hostname: vectorsHost},
	}}
}

// Every new family through the flow: a directory bucket's name picks the
// zonal hostname of the AZ it carries (the regional one where the endpoint
// has none), a Multi-Region Access Point and an api.aws name get their
// endpoint, unlisted ones are forwarded; cached, each is answered on the
// fast path without allocating.
func TestNewNameFamiliesAnswered(t *testing.T) {
	up := dnstest.NewUpstream(t, expressRegional+" 60 IN A 10.9.0.10", expressAZ4+" 60 IN A 10.9.1.10",
		mrapHost+" 60 IN A 10.9.2.10", vectorsHost+" 60 IN A 10.9.3.10",
		"other--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com. 300 IN A 192.0.2.9")
	h := flow(t, familiesConfig(), up)
	r := h.from("127.0.0.1", metrics.UDP)
	for _, c := range []struct{ name, target, addr string }{
		{"analytics--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com.", expressAZ4, "10.9.1.10"},
		{"tmp-1--use1-az6--x-s3.s3express-use1-az6.us-east-1.amazonaws.com.", expressRegional, "10.9.0.10"},
		{"s3express-control.us-east-1.amazonaws.com.", expressRegional, "10.9.0.10"},
		{"mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com.", mrapHost, "10.9.2.10"},
		{"s3vectors.us-east-1.api.aws.", vectorsHost, "10.9.3.10"},
		{"other--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com.", "", "192.0.2.9"}, // not listed: public
	} {
		resp := r.ask(t, question(c.name, dns.TypeA))
		if resp == nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
			t.Fatalf("%s: %v", c.name, resp)
		}
		if cname, ok := resp.Answer[0].(*dns.CNAME); c.target != "" && (!ok || cname.Target != c.target) {
			t.Errorf("%s: %v, want a CNAME to %s", c.name, resp.Answer[0], c.target)
		}
		if a, ok := resp.Answer[len(resp.Answer)-1].(*dns.A); !ok || a.A.String() != c.addr {
			t.Errorf("%s: %v, want %s last", c.name, resp.Answer, c.addr)
		}
		pkt, _ := question(c.name, dns.TypeA).Pack()
		if _, fast := r.raw(pkt); !fast {
			t.Errorf("%s: not answered on the fast path once cached", c.name)
		}
		st, sc := h.srv.State(), newScratch()
		if n := testing.AllocsPerRun(100, func() { fastReply(h.srv, st, pkt, netip.MustParseAddr("127.0.0.1"), sc) }); n != 0 {
			t.Errorf("%s: %v allocations per cached query", c.name, n)
		}
	}
}

// BenchmarkFastAnswerFamilies sets a cached answer of each new family
// beside a plain S3 bucket name's, on the same server: the fast path's cost
// should not depend on the family (compare the ns/op of the sub-benchmarks).
func BenchmarkFastAnswerFamilies(b *testing.B) {
	sc := familiesConfig()
	sc.Endpoints = append(sc.Endpoints, baseConfig().Endpoints...)
	up := dnstest.NewUpstream(b, append(publicZone, expressRegional+" 60 IN A 10.9.0.10", expressAZ4+" 60 IN A 10.9.1.10",
		mrapHost+" 60 IN A 10.9.2.10", vectorsHost+" 60 IN A 10.9.3.10")...)
	h := startWith(b, sc, up)
	st, scratch := h.srv.State(), newScratch()
	for _, c := range []struct{ family, name string }{
		{"s3", listed},
		{"express", "analytics--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com."},
		{"mrap", "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com."},
		{"api.aws", "s3vectors.us-east-1.api.aws."},
	} {
		h.query(b, c.name, dns.TypeA)
		b.Run(c.family, func(b *testing.B) {
			pkt, _ := withEDNS(question(c.name, dns.TypeA), 1232, false).Pack()
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := fastReply(h.srv, st, pkt, clientLoopback, scratch); !ok {
					b.Fatal("missed")
				}
			}
		})
	}
}
