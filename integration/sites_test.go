package integration

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

const sampleZonal = "vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com."

// zonedEndpoint is listedEndpoint with its zonal hostname in eu-west-2a.
var zonedEndpoint = endpoint{Name: "s3-london", Region: "eu-west-2", Hostname: sampleVPCE,
	ZonalHostnames: map[string]string{"eu-west-2a": sampleZonal}, Buckets: []string{"myspecificbucket"}}

// sitesPublicDNS is publicDNS with the zonal name too.
func sitesPublicDNS(t *testing.T) *dnstest.Upstream {
	up := publicDNS(t)
	up.Add(t, sampleZonal+" 60 IN A 10.0.1.10")
	return up
}

// askFrom asks server from a loopback source address (a client of a site).
func askFrom(t *testing.T, from, server, name string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 10 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(from)}}}
	resp, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("asking %s from %s for %s: %v", server, from, name, err)
	}
	return resp
}

// chain is an answer in short: CNAME targets, then the sorted addresses.
func chain(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			out = append(out, "CNAME "+c.Target)
		}
	}
	return append(out, sorted(addrs(m))...)
}

// subnetcacheMerged is what the Unbound export asks the operator to merge
// into module-config with sites (the test Unbound runs "iterator" alone).
const subnetcacheMerged = "\n\tmodule-config: \"subnetcache iterator\"\n"

var (
	zonalChain    = []string{"CNAME " + sampleZonal, "10.0.1.10"}
	regionalChain = []string{"CNAME " + sampleVPCE, "10.0.1.10", "10.0.2.10"}
	publicAnswer  = []string{"192.0.2.81"}
)

// unboundBeforeSites runs s3dns with a zonal data centre (127.0.0.2) and a
// public DR site (127.0.0.3), trusting 127.0.0.1's client subnets, and an
// Unbound in front of it set up as `export --format unbound` says.
func unboundBeforeSites(t *testing.T) (*process, *resolver) {
	t.Helper()
	public := sitesPublicDNS(t)
	cfg := fileConfig{Upstreams: []string{public.Addr}, UpstreamTimeout: "1s", Endpoints: []endpoint{zonedEndpoint},
		Sites: []site{{Name: "london-dc", Clients: []string{"127.0.0.2/32"}, Zone: "eu-west-2a"},
			{Name: "dr", Clients: []string{"127.0.0.3/32"}, Public: true}},
		SitesTrustECS: []string{"127.0.0.1/32"}}
	file := writeConfig(t, cfg)
	s := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file, "--log-queries", "true")
	server, zones := splitUnbound(export(t, "--format", "unbound", "--config", file, "--server", s.dns))
	for _, want := range []string{"send-client-subnet: 127.0.0.1", "max-client-subnet-ipv4: 32", `name: "` + sampleZonal + `"`} {
		if !strings.Contains(server+zones, want) {
			t.Fatalf("export lacks %q:\n%s%s", want, server, zones)
		}
	}
	return s, startUnbound(t, public.Addr, server+subnetcacheMerged, zones)
}

// One Unbound serves two sites and clients in none: it sends each
// client's subnet to s3dns (subnetcache, set up by export) and caches per
// subnet; s3dns trusts it and answers per site.
func TestSitesThroughUnboundClientSubnet(t *testing.T) {
	t.Parallel()
	s, unbound := unboundBeforeSites(t)
	for round := 0; round < 2; round++ { // the second from Unbound's per-subnet cache
		for _, c := range []struct {
			from string
			want []string
		}{{"127.0.0.2", zonalChain}, {"127.0.0.3", publicAnswer}, {"127.0.0.4", regionalChain}} {
			if got := chain(askFrom(t, c.from, unbound.addr, listedName)); !slices.Equal(got, c.want) {
				t.Errorf("round %d, client %s through Unbound: %v, want %v\ns3dns:\n%s", round, c.from, got, c.want, s.stderr)
			}
		}
	}
}

// One query whose client subnet holds site prefixes cannot poison the
// sites' answers in a resolver that caches per subnet (issue 30, item 1):
// a client hands Unbound ECS 127.0.0.0/24, which holds both sites' /32s;
// s3dns answers it for no site with a scope that keeps the answer to that
// exact subnet, so each site's clients still get their own answer.
func TestWideClientSubnetDoesNotLeakThroughUnbound(t *testing.T) {
	t.Parallel()
	_, unbound := unboundBeforeSites(t)
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(listedName), dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
		SourceNetmask: 24, Address: net.ParseIP("127.0.0.0").To4()})
	c := &dns.Client{Timeout: 10 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.9")}}}
	resp, _, err := c.Exchange(m, unbound.addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := chain(resp); !slices.Equal(got, regionalChain) {
		t.Fatalf("the wide subnet's own answer: %v, want %v", got, regionalChain)
	}
	for _, c := range []struct {
		from string
		want []string
	}{{"127.0.0.3", publicAnswer}, {"127.0.0.2", zonalChain}} {
		if got := chain(askFrom(t, c.from, unbound.addr, listedName)); !slices.Equal(got, c.want) {
			t.Errorf("client %s through Unbound after the wide subnet: %v, want %v", c.from, got, c.want)
		}
	}
}

// A client subnet from a sender s3dns does not trust is ignored.
func TestUntrustedClientSubnetIgnored(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	public := sitesPublicDNS(t)
	file := writeConfig(t, fileConfig{Upstreams: []string{public.Addr}, Endpoints: []endpoint{zonedEndpoint},
		Sites:         []site{{Name: "london-dc", Clients: []string{"127.0.0.2/32"}, Zone: "eu-west-2a"}},
		SitesTrustECS: []string{"127.0.0.9/32"}})
	s := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	out := dig(t, digPath, s.dns, "+subnet=127.0.0.2/32", listedName, "A")
	if !strings.Contains(out, sampleVPCE) || strings.Contains(out, sampleZonal) || strings.Contains(out, "CLIENT-SUBNET") {
		t.Errorf("untrusted ECS decided the site or was echoed:\n%s", out)
	}
}

// One BIND serves two sites with a view each, from `export --site`: the
// data centre's view forwards to s3dns from its own source address, which
// s3dns's site lists; the DR site's view forwards nothing to s3dns.
func TestSitesThroughBINDViews(t *testing.T) {
	t.Parallel()
	public := sitesPublicDNS(t)
	file := writeConfig(t, fileConfig{Upstreams: []string{public.Addr}, UpstreamTimeout: "1s", Endpoints: []endpoint{zonedEndpoint},
		Sites: []site{{Name: "london-dc", Clients: []string{"127.0.0.12/32"}, Zone: "eu-west-2a"},
			{Name: "dr", Clients: []string{"127.0.0.13/32"}, Public: true}}})
	s := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	view := func(name, clients, source string, site ...string) string {
		zones := export(t, append([]string{"--format", "bind", "--config", file, "--server", s.dns}, site...)...)
		return fmt.Sprintf("view %q {\n\tmatch-clients { %s; };\n\tquery-source address %s;\n%s\n};\n", name, clients, source, zones)
	}
	dr := export(t, "--format", "bind", "--config", file, "--server", s.dns, "--site", "dr")
	if strings.Contains(dr, "zone ") {
		t.Fatalf("the public site's export forwards something:\n%s", dr)
	}
	named := startNamed(t, public.Addr, "", view("dc", "127.0.0.2", "127.0.0.12", "--site", "london-dc")+
		view("dr", "127.0.0.3", "127.0.0.13", "--site", "dr")+view("rest", "any", "127.0.0.1"))
	for _, c := range []struct {
		from string
		want []string
	}{{"127.0.0.2", zonalChain}, {"127.0.0.3", publicAnswer}, {"127.0.0.4", regionalChain}} {
		if got := chain(askFrom(t, c.from, named.addr, listedName)); !slices.Equal(got, c.want) {
			t.Errorf("client %s through BIND: %v, want %v", c.from, got, c.want)
		}
	}
}
