package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

const (
	listedName   = "myspecificbucket.s3.eu-west-2.amazonaws.com"
	unlistedName = "otherbucket.s3.eu-west-2.amazonaws.com"
)

var private = []string{"10.0.1.10", "10.0.2.10"}

// s3dnsFor starts s3dns with the given endpoints and upstream.
func s3dnsFor(t *testing.T, upstream string, eps []endpoint, args ...string) *process {
	t.Helper()
	file := writeConfig(t, fileConfig{Upstreams: []string{upstream}, UpstreamTimeout: "1s", Endpoints: eps})
	return startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), append([]string{"--config", file}, args...)...)
}

// exportConfig is a configuration file of eps alone, for export.
func exportConfig(t *testing.T, eps ...endpoint) string {
	t.Helper()
	return writeConfig(t, fileConfig{Endpoints: eps})
}

func TestBINDForwardZone(t *testing.T) {
	t.Parallel()
	public := publicDNS(t)
	s := s3dnsFor(t, public.Addr, []endpoint{listedEndpoint})
	zones := export(t, "--format", "bind", "--config", exportConfig(t, listedEndpoint), "--server", s.dns)
	if !strings.Contains(zones, `zone "s3.eu-west-2.amazonaws.com"`) {
		t.Fatalf("export:\n%s", zones)
	}
	bind := startNamed(t, public.Addr, "", zones)

	resp := ask(t, bind.addr, listedName, dns.TypeA)
	if got := addrs(resp); !slices.Equal(sorted(got), private) || resp.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("listed bucket through BIND: %v", resp)
	}
	resp = ask(t, bind.addr, unlistedName, dns.TypeA)
	if got := addrs(resp); !slices.Equal(got, []string{"192.0.2.80"}) {
		t.Fatalf("unlisted bucket through BIND: %v", resp)
	}
}

func TestBINDPerBucketZone(t *testing.T) {
	t.Parallel()
	public := publicDNS(t)
	s := s3dnsFor(t, public.Addr, []endpoint{listedEndpoint})
	zones := export(t, "--format", "bind", "--per-bucket", "--config", exportConfig(t, listedEndpoint), "--server", s.dns)
	if !strings.Contains(zones, `zone "myspecificbucket.s3.eu-west-2.amazonaws.com"`) {
		t.Fatalf("export:\n%s", zones)
	}
	bind := startNamed(t, public.Addr, "", zones)
	if got := addrs(ask(t, bind.addr, listedName, dns.TypeA)); !slices.Equal(sorted(got), private) {
		t.Fatalf("listed bucket through a per-bucket zone: %v", got)
	}
	if got := addrs(ask(t, bind.addr, unlistedName, dns.TypeA)); !slices.Equal(got, []string{"192.0.2.80"}) {
		t.Fatalf("unlisted bucket: %v", got)
	}
	if n := public.Count(listedName+".", "udp"); n != 0 {
		t.Fatalf("the listed bucket's public name was asked %d times", n)
	}
}

func TestBINDAliasAndOnUnresolved(t *testing.T) {
	t.Parallel()
	public := publicDNS(t)
	// s3dns's own upstream cannot resolve the endpoint; BIND's can.
	broken := dnstest.NewUpstream(t, "otherbucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.80",
		"cname-bucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.91",
		"public-bucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.92",
		"closed-bucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.93")
	broken.FailName("vpce-broken.s3.eu-west-2.vpce.amazonaws.com.")
	public.Add(t, "vpce-broken.s3.eu-west-2.vpce.amazonaws.com. 60 IN A 10.0.3.10")
	const brokenVPCE = "vpce-broken.s3.eu-west-2.vpce.amazonaws.com"
	alias := listedEndpoint
	alias.Answer = "alias"
	endpoints := []endpoint{alias,
		{Region: "eu-west-2", Hostname: brokenVPCE, Buckets: []string{"cname-bucket"}, OnUnresolved: "cname"},
		{Region: "eu-west-2", Hostname: brokenVPCE, Buckets: []string{"public-bucket"}, OnUnresolved: "public"},
		{Region: "eu-west-2", Hostname: brokenVPCE, Buckets: []string{"closed-bucket"}, OnUnresolved: "servfail"},
	}
	// s3dns resolves the working endpoint through the public fake, the
	// broken one through an upstream that fails for it.
	own := slices.Clone(endpoints)
	own[0].Hostname = "vpce-alias.example"
	s := s3dnsFor(t, broken.Addr, own)
	broken.Add(t, "vpce-alias.example. 60 IN A 10.0.4.10")
	zones := export(t, "--format", "bind", "--config", exportConfig(t, endpoints...), "--server", s.dns)
	bind := startNamed(t, public.Addr, "", zones)

	resp := ask(t, bind.addr, listedName, dns.TypeA)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeA || addrs(resp)[0] != "10.0.4.10" {
		t.Fatalf("alias through BIND: %v", resp)
	}
	// cname: s3dns gives the CNAME alone and BIND chases it through its own upstream.
	resp = ask(t, bind.addr, "cname-bucket.s3.eu-west-2.amazonaws.com", dns.TypeA)
	if got := addrs(resp); !slices.Equal(got, []string{"10.0.3.10"}) {
		t.Fatalf("on_unresolved cname through BIND: %v", resp)
	}
	resp = ask(t, bind.addr, "public-bucket.s3.eu-west-2.amazonaws.com", dns.TypeA)
	if got := addrs(resp); !slices.Equal(got, []string{"192.0.2.92"}) {
		t.Fatalf("on_unresolved public through BIND: %v", resp)
	}
	resp = ask(t, bind.addr, "closed-bucket.s3.eu-west-2.amazonaws.com", dns.TypeA)
	if resp.Rcode != dns.RcodeServerFailure || len(addrs(resp)) != 0 {
		t.Fatalf("on_unresolved servfail through BIND: %v", resp)
	}
}
