package integration

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Interface endpoints for services other than S3: STS, ECR (api and the
// *.dkr registry names) and API Gateway, beside S3, through the binary and
// through BIND and Unbound configured by export.

const (
	stsVPCE  = "vpce-0111-aaaa.sts.eu-west-2.vpce.amazonaws.com."
	apiVPCE  = "vpce-0222-bbbb.api.ecr.eu-west-2.vpce.amazonaws.com."
	dkrVPCE  = "vpce-0333-cccc.dkr.ecr.eu-west-2.vpce.amazonaws.com."
	execVPCE = "vpce-0444-dddd.execute-api.eu-west-2.vpce.amazonaws.com."
)

var serviceEndpoints = []endpoint{listedEndpoint,
	{Region: "eu-west-2", Service: "sts", Hostname: stsVPCE},
	{Region: "eu-west-2", Service: "ecr.api", Hostname: apiVPCE},
	{Region: "eu-west-2", Service: "ecr.dkr", Hostname: dkrVPCE},
	{Region: "eu-west-2", Service: "execute-api", Hostname: execVPCE},
}

// servicesPublicDNS resolves each endpoint to its own private addresses,
// and the services' public names to public addresses that must not be
// handed out for the served ones.
func servicesPublicDNS(t *testing.T) *dnstest.Upstream {
	u := publicDNS(t)
	for _, r := range []string{
		stsVPCE + " 60 IN A 10.1.0.1", apiVPCE + " 60 IN A 10.2.0.1", dkrVPCE + " 60 IN A 10.3.0.1", execVPCE + " 60 IN A 10.4.0.1",
		"sts.eu-west-2.amazonaws.com. 60 IN A 198.51.100.1",
		"api.ecr.eu-west-2.amazonaws.com. 60 IN A 198.51.100.2",
		"123456789012.dkr.ecr.eu-west-2.amazonaws.com. 60 IN A 198.51.100.3",
		"a1b2c3.execute-api.eu-west-2.amazonaws.com. 60 IN A 198.51.100.4",
		"kms.eu-west-2.amazonaws.com. 60 IN A 198.51.100.5",
	} {
		u.Add(t, r)
	}
	return u
}

// serviceWants are the served names and the private address each must get.
var serviceWants = []struct {
	name  string
	addrs []string
}{
	{"sts.eu-west-2.amazonaws.com", []string{"10.1.0.1"}},
	{"api.ecr.eu-west-2.amazonaws.com", []string{"10.2.0.1"}},
	{"123456789012.dkr.ecr.eu-west-2.amazonaws.com", []string{"10.3.0.1"}},
	{"a1b2c3.execute-api.eu-west-2.amazonaws.com", []string{"10.4.0.1"}},
	{listedName, private},
}

func TestServiceEndpointsWithDig(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	s := s3dnsFor(t, servicesPublicDNS(t).Addr, serviceEndpoints)
	for _, w := range serviceWants {
		out := dig(t, digPath, s.dns, w.name)
		vpce := `vpce-[0-9a-z-]+\.[0-9a-z.-]+\.eu-west-2\.vpce\.amazonaws\.com\.`
		for _, re := range []string{`status: NOERROR`, `flags: qr aa rd ra;`,
			regexp.QuoteMeta(w.name) + `\.\s+60\s+IN\s+CNAME\s+` + vpce,
			vpce + `\s+\d+\s+IN\s+A\s+` + regexp.QuoteMeta(w.addrs[0])} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("%s: no match for %s in:\n%s", w.name, re, out)
			}
		}
		if strings.Contains(out, "198.51.100.") {
			t.Errorf("%s: the public address was handed out:\n%s", w.name, out)
		}
	}
	// A service without an endpoint stays public.
	if out := dig(t, digPath, s.dns, "kms.eu-west-2.amazonaws.com"); !strings.Contains(out, "198.51.100.5") || strings.Contains(out, "flags: qr aa") {
		t.Errorf("unserved service not forwarded:\n%s", out)
	}
}

func TestServiceEndpointsThroughResolvers(t *testing.T) {
	t.Parallel()
	public := servicesPublicDNS(t)
	s := s3dnsFor(t, public.Addr, serviceEndpoints)
	cfg := exportConfig(t, serviceEndpoints...)
	bindZones := export(t, "--format", "bind", "--config", cfg, "--server", s.dns)
	unboundServer, unboundZones := splitUnbound(export(t, "--format", "unbound", "--config", cfg, "--server", s.dns))
	for _, z := range []string{"sts.eu-west-2.amazonaws.com", "api.ecr.eu-west-2.amazonaws.com", "dkr.ecr.eu-west-2.amazonaws.com",
		"execute-api.eu-west-2.amazonaws.com", "s3.eu-west-2.amazonaws.com"} {
		if !strings.Contains(bindZones, `zone "`+z+`"`) || !strings.Contains(unboundZones, `name: "`+z+`."`) {
			t.Fatalf("export lacks the zone %s:\n%s\n%s", z, bindZones, unboundZones)
		}
	}
	resolvers := map[string]*resolver{
		"BIND":    startNamed(t, public.Addr, "", bindZones),
		"Unbound": startUnbound(t, public.Addr, unboundServer, unboundZones),
	}
	for name, r := range resolvers {
		for _, w := range serviceWants {
			if got := addrs(ask(t, r.addr, w.name, dns.TypeA)); !slices.Equal(sorted(got), w.addrs) {
				t.Errorf("%s: %s resolved to %v, want %v", name, w.name, got, w.addrs)
			}
		}
		if got := addrs(ask(t, r.addr, "kms.eu-west-2.amazonaws.com", dns.TypeA)); !slices.Equal(got, []string{"198.51.100.5"}) {
			t.Errorf("%s: unserved service resolved to %v", name, got)
		}
	}
}
