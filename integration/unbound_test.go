package integration

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func TestUnbound0x20AndPrivateDomain(t *testing.T) {
	t.Parallel()
	public, behindS3dns := publicDNS(t), publicDNS(t)
	s := s3dnsFor(t, behindS3dns.Addr, []endpoint{listedEndpoint}, "--log-queries", "true")
	out := export(t, "--format", "unbound", "--config", exportConfig(t, listedEndpoint), "--server", s.dns)
	server, zones := splitUnbound(out)
	if !strings.Contains(server, `private-domain: "vpce.amazonaws.com"`) || !strings.Contains(zones, `name: "s3.eu-west-2.amazonaws.com."`) {
		t.Fatalf("export:\n%s", out)
	}
	unbound := startUnbound(t, public.Addr, server, zones)

	resp := ask(t, unbound.addr, listedName, dns.TypeA)
	if got := addrs(resp); !slices.Equal(sorted(got), private) {
		t.Fatalf("listed bucket through Unbound (0x20 on): %v\n%s", resp, unbound.log)
	}
	resp = ask(t, unbound.addr, unlistedName, dns.TypeA)
	if got := addrs(resp); !slices.Equal(got, []string{"192.0.2.80"}) {
		t.Fatalf("unlisted bucket through Unbound: %v", resp)
	}
	// Unbound really sent s3dns randomised letter case (and accepted the
	// echo); s3dns asked its own upstream in lower case. The query is
	// logged just after its reply is written: wait for the line.
	dnstest.WaitFor(t, "Unbound's 0x20 query in s3dns's query log", 5*time.Second, func() bool {
		return mixedCaseLogged(s.stderr.String(), listedName)
	})
	for _, q := range behindS3dns.Asked() {
		if n := q.Question[0].Name; n != strings.ToLower(n) {
			t.Fatalf("s3dns passed the client's letter case upstream: %s", n)
		}
	}
	if behindS3dns.Count(unlistedName+".", "udp") != 1 {
		t.Fatal("the unlisted bucket did not go through s3dns")
	}
}

// Without private-domain, Unbound's DNS-rebind protection strips the
// endpoint's private addresses: the setting the export adds is needed.
func TestUnboundWithoutPrivateDomainStripsPrivateAnswers(t *testing.T) {
	t.Parallel()
	public := publicDNS(t)
	s := s3dnsFor(t, public.Addr, []endpoint{listedEndpoint})
	_, zones := splitUnbound(export(t, "--format", "unbound", "--config", exportConfig(t, listedEndpoint), "--server", s.dns))
	unbound := startUnbound(t, public.Addr, "", zones)
	resp := ask(t, unbound.addr, listedName, dns.TypeA)
	if got := addrs(resp); len(got) != 0 {
		t.Fatalf("private addresses were not stripped, so this test proves nothing: %v", resp)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// mixedCaseLogged reports whether the query log holds name in a spelling
// other than all lower case.
func mixedCaseLogged(log, name string) bool {
	for _, line := range strings.Split(log, "\n") {
		i := strings.Index(line, "name=")
		if i < 0 {
			continue
		}
		logged := strings.Fields(line[i+len("name="):])[0]
		if strings.EqualFold(logged, name+".") && logged != name+"." {
			return true
		}
	}
	return false
}
