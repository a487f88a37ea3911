package dnsserver

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/wire"
)

const (
	zonalA  = "vpce-0a1b-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com."
	backup1 = "backup-1.s3.eu-west-2.amazonaws.com."
)

// Sites on loopback source addresses: 127.0.0.2 is a data centre in
// eu-west-2a, .3 a branch served only backup-* privately, .4 a DR site with
// no private link; 127.0.0.1 is in no site.
func siteConfig() serverConfig {
	c := baseConfig()
	c.Endpoints[0].Name = "s3-london"
	c.Endpoints[0].Buckets = []string{"myspecificbucket", "backup-*"}
	c.Endpoints[0].ZonalHostnames = map[string]string{"eu-west-2a": zonalA}
	c.Sites = []map[string]any{
		{"name": "london-dc", "clients": []string{"127.0.0.2/32"}, "zone": "eu-west-2a"},
		{"name": "branch", "clients": []string{"127.0.0.3/32"}, "endpoints": []map[string]any{{"name": "s3-london", "buckets": []string{"backup-*"}}}},
		{"name": "dr", "clients": []string{"127.0.0.4/32"}, "public": true},
	}
	return c
}

// siteServer serves siteConfig (changed by change, when given) with a
// fake public DNS that also knows the zonal name.
func siteServer(t *testing.T, change func(*serverConfig)) (*harness, *dnstest.Upstream) {
	t.Helper()
	up := dnstest.NewUpstream(t, append(publicZone, zonalA+" 60 IN A 10.1.0.10", backup1+" 300 IN A 192.0.2.8")...)
	c := siteConfig()
	if change != nil {
		c = c.with(change)
	}
	return startWith(t, c, up), up
}

// askFrom sends a UDP query for name's A records from a loopback source address.
func (h *harness) askFrom(t *testing.T, from, name string) *dns.Msg {
	t.Helper()
	return h.exchangeFrom(t, from, question(name, dns.TypeA))
}

// exchangeFrom sends m over UDP from a loopback source address.
func (h *harness) exchangeFrom(t *testing.T, from string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second,
		Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(from)}}}
	resp, _, err := c.Exchange(m, h.addr)
	if err != nil {
		t.Fatalf("query for %s from %s: %v", m.Question[0].Name, from, err)
	}
	return resp
}

// summary is an answer in short: the CNAME target (if any) and the addresses.
func summary(m *dns.Msg) []string {
	out := addrsOf(m)
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			out = append([]string{"CNAME " + c.Target}, out...)
		}
	}
	return out
}

func TestSitesGetTheirPolicy(t *testing.T) {
	h, _ := siteServer(t, nil)
	regional := []string{"CNAME " + vpce, "10.1.0.10", "10.1.0.11"}
	for _, c := range []struct {
		from, name string
		want       []string
	}{
		{"127.0.0.1", listed, regional},                                 // no site: the top-level policy
		{"127.0.0.2", listed, []string{"CNAME " + zonalA, "10.1.0.10"}}, // its AZ's zonal name
		{"127.0.0.3", listed, []string{"192.0.2.7"}},                    // not listed for the branch: public
		{"127.0.0.3", backup1, regional},                                // backup-* is
		{"127.0.0.4", listed, []string{"192.0.2.7"}},                    // public site
		{"127.0.0.4", backup1, []string{"192.0.2.8"}},                   // public site
		{"127.0.0.1", backup1, regional},                                // no site
	} {
		// Twice each, and interleaved with the other sites: the second
		// answer comes from the fast path, which must keep sites apart.
		for round := 0; round < 2; round++ {
			if got := summary(h.askFrom(t, c.from, c.name)); !slices.Equal(got, c.want) {
				t.Errorf("%s from %s (round %d): %v, want %v", c.name, c.from, round, got, c.want)
			}
		}
	}
	if got := summary(h.askFrom(t, "127.0.0.1", listed)); !slices.Equal(got, regional) {
		t.Errorf("no site after the others: %v", got)
	}
}

func TestSiteFastPathAllocatesNothing(t *testing.T) {
	h, _ := siteServer(t, nil)
	h.askFrom(t, "127.0.0.2", listed)
	h.askFrom(t, "127.0.0.3", listed)
	st, sc := h.srv.State(), newScratch()
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		client := netip.MustParseAddr(from)
		pkt, _ := question(listed, dns.TypeA).Pack()
		if _, ok := fastReply(h.srv, st, pkt, client, sc); !ok {
			t.Fatalf("from %s: not answered on the fast path", from)
		}
		if n := testing.AllocsPerRun(200, func() { fastReply(h.srv, st, pkt, client, sc) }); n != 0 {
			t.Errorf("from %s: %v allocations per query", from, n)
		}
	}
}

// With the site's zone down, its clients get the regional name with the
// healthy addresses; when the zone comes back, the zonal name again.
func TestSiteZoneFallsBackToRegional(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	ifs := newInterfaces(t, "127.0.0.21", "127.0.0.22")
	up := dnstest.NewUpstream(t, vpce+" 60 IN A 127.0.0.21", vpce+" 60 IN A 127.0.0.22", zonalA+" 60 IN A 127.0.0.21")
	h := startWith(t, siteConfig().with(func(c *serverConfig) {
		c.Endpoints[0].Health = map[string]any{"interval": "100ms", "timeout": "50ms", "port": ifs.port, "fall": 2, "rise": 2}
	}), up)
	zonal := []string{"CNAME " + zonalA, "127.0.0.21"}
	waitFor := func(want []string, what string) {
		t.Helper()
		dnstest.WaitFor(t, what, 5*time.Second, func() bool {
			for range 2 { // the second from the fast path once kept
				if !slices.Equal(summary(h.askFrom(t, "127.0.0.2", listed)), want) {
					return false
				}
			}
			return true
		})
	}
	waitFor(zonal, "the zonal name")
	ifs.close("127.0.0.21")
	waitFor([]string{"CNAME " + vpce, "127.0.0.22"}, "the regional name with the healthy address")
	ifs.reopen(t, "127.0.0.21")
	waitFor(zonal, "the zonal name again")
	// A resolver chasing the zonal CNAME asks s3dns for it: answered, health filtered.
	if got := addrsOf(h.askFrom(t, "127.0.0.2", zonalA)); !slices.Equal(got, []string{"127.0.0.21"}) {
		t.Errorf("the zonal hostname itself: %v", got)
	}
}

// A reload that moves a client prefix from one site to another changes its
// answers at once, fast path included.
func TestReloadMovesClientBetweenSites(t *testing.T) {
	h, up := siteServer(t, nil)
	h.askFrom(t, "127.0.0.4", listed)
	if got := summary(h.askFrom(t, "127.0.0.4", listed)); !slices.Equal(got, []string{"192.0.2.7"}) {
		t.Fatalf("before: %v", got)
	}
	moved := siteConfig()
	moved.Sites[0]["clients"] = []string{"127.0.0.2/32", "127.0.0.4/32"}
	moved.Sites[2]["clients"] = []string{"127.0.0.5/32"}
	moved.Upstreams = []string{up.Addr}
	h.srv.Swap(h.stateFor(loadConfig(t, moved)))
	if got := summary(h.askFrom(t, "127.0.0.4", listed)); !slices.Equal(got, []string{"CNAME " + zonalA, "10.1.0.10"}) {
		t.Errorf("after the reload: %v", got)
	}
}

func TestSiteRequestsCounted(t *testing.T) {
	h, _ := siteServer(t, nil)
	h.askFrom(t, "127.0.0.2", listed)
	h.askFrom(t, "127.0.0.2", listed)
	h.askFrom(t, "127.0.0.4", listed)
	h.askFrom(t, "127.0.0.1", listed)
	dnstest.WaitFor(t, "the site counters", 2*time.Second, func() bool {
		return testutil.ToFloat64(h.metrics.SiteRequests.WithLabelValues("london-dc", "endpoint")) == 2 &&
			testutil.ToFloat64(h.metrics.SiteRequests.WithLabelValues("dr", "forward")) == 1 &&
			testutil.CollectAndCount(h.metrics.SiteRequests) == 2
	})
}

// askWithECS sends a UDP query from a loopback address carrying an EDNS
// Client Subnet option for subnet.
func (h *harness) askWithECS(t *testing.T, from, name, subnet string) *dns.Msg {
	t.Helper()
	p := netip.MustParsePrefix(subnet)
	m := withEDNS(question(name, dns.TypeA), 1232, false)
	ecs := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().AsSlice())}
	m.IsEdns0().Option = append(m.IsEdns0().Option, ecs)
	return h.exchangeFrom(t, from, m)
}

// ecsOf is the reply's client subnet option, nil when it has none.
func ecsOf(m *dns.Msg) *dns.EDNS0_SUBNET {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				return e
			}
		}
	}
	return nil
}

// A trusted forwarder's client subnet picks the site and comes back with
// the scope the answer holds for; anyone else's is ignored, never echoed,
// never forwarded.
func TestSitesByClientSubnet(t *testing.T) {
	h, up := siteServer(t, func(c *serverConfig) {
		c.SitesTrustECS = []string{"127.0.0.1/32"}
		c.Sites = append([]map[string]any{{"name": "lab", "clients": []string{"10.20.30.0/24"}, "public": true}}, c.Sites...)
		c.Sites[1]["clients"] = []string{"127.0.0.2/32", "10.20.0.0/16"} // london-dc, with lab inside it listed first
	})
	zonal := []string{"CNAME " + zonalA, "10.1.0.10"}
	regional := []string{"CNAME " + vpce, "10.1.0.10", "10.1.0.11"}
	for _, c := range []struct {
		from, subnet string
		want         []string
		scope        int // -1: no ECS in the reply
	}{
		{"127.0.0.1", "127.0.0.2/32", zonal, 32},                  // trusted: london-dc by ECS
		{"127.0.0.1", "10.20.7.0/24", zonal, 24},                  // london-dc's /16, but lab's /24 inside it
		{"127.0.0.1", "10.20.30.0/24", []string{"192.0.2.7"}, 24}, // lab: public
		{"127.0.0.1", "10.99.0.0/24", regional, 24},               // no site: as narrow as sent
		{"127.0.0.1", "10.0.0.0/8", regional, 24},                 // no site, but lab's /24 and london-dc's /16 inside: never wider than lab's
		{"127.0.0.1", "10.20.0.0/15", zonal, 24},                  // london-dc by address; lab inside: kept for this exact subnet
		{"127.0.0.1", "0.0.0.0/0", regional, 0},                   // the client opted out: the forwarder's own site (none)
		{"127.0.0.5", "127.0.0.2/32", regional, -1},               // untrusted: its own address decides, nothing echoed
		{"127.0.0.3", "127.0.0.2/32", []string{"192.0.2.7"}, -1},  // untrusted branch client: branch policy
	} {
		for round := 0; round < 2; round++ { // the second from the fast path
			resp := h.askWithECS(t, c.from, listed, c.subnet)
			if got := summary(resp); !slices.Equal(got, c.want) {
				t.Errorf("from %s with ECS %s (round %d): %v, want %v", c.from, c.subnet, round, got, c.want)
			}
			ecs := ecsOf(resp)
			switch {
			case c.scope < 0 && ecs != nil:
				t.Errorf("from %s: ECS echoed to an untrusted client: %v", c.from, ecs)
			case c.scope >= 0 && (ecs == nil || int(ecs.SourceScope) != c.scope || ecs.Address.String() != netip.MustParsePrefix(c.subnet).Addr().String()):
				t.Errorf("from %s with ECS %s: reply's ECS %v, want the subnet back with scope %d", c.from, c.subnet, ecs, c.scope)
			}
		}
	}
	// A name no site's policy touches is answered alike for every site:
	// scope 0, one copy in the resolver's cache. A name some policy touches
	// keeps the site's scope even where this site forwards it.
	for _, c := range []struct {
		subnet, name string
		scope        int
	}{
		{"127.0.0.2/32", unlisted, 0},  // london-dc, a forwarded name no policy lists
		{"10.99.0.0/24", unlisted, 0},  // no site
		{"127.0.0.3/32", listed, 32},   // branch forwards it, the top level does not
		{"127.0.0.4/32", backup1, 32},  // dr forwards it, branch does not
		{"10.20.30.0/24", unlisted, 0}, // lab (public) and a name nobody lists
	} {
		for round := 0; round < 2; round++ {
			if ecs := ecsOf(h.askWithECS(t, "127.0.0.1", c.name, c.subnet)); ecs == nil || int(ecs.SourceScope) != c.scope {
				t.Errorf("%s with ECS %s (round %d): reply's ECS %v, want scope %d", c.name, c.subnet, round, ecs, c.scope)
			}
		}
	}
	for _, m := range up.Asked() {
		if ecsOf(m) != nil {
			t.Fatalf("ECS forwarded upstream: %v", m)
		}
	}
}

// What the admin paths show and drop (issue 31, item 6): the dump names
// each packed endpoint answer's site, and a flush of one name drops its
// answers for every site and type, and nothing else.
func TestDumpAndFlushNameSites(t *testing.T) {
	h, _ := siteServer(t, nil)
	h.askFrom(t, "127.0.0.2", listed) // london-dc: zonal
	h.askFrom(t, "127.0.0.1", listed) // no site
	h.askFrom(t, "127.0.0.1", unlisted)
	st := h.srv.State()
	sites := map[string]bool{}
	for _, held := range st.Dump() {
		if held.Name == listed && held.From == "endpoint" {
			sites[held.Site] = true
		}
	}
	if !sites["london-dc"] || !sites[""] {
		t.Fatalf("endpoint answers by site: %v, want london-dc and the top level", sites)
	}
	n, err := st.Flush(strings.ToUpper(listed))
	if err != nil || n < 2 {
		t.Fatalf("flush %s: %d, %v", listed, n, err)
	}
	for _, held := range st.Dump() {
		if held.Name == listed {
			t.Fatalf("still held after the flush: %+v", held)
		}
	}
	if !slices.ContainsFunc(st.Dump(), func(h wire.Held) bool { return h.Name == unlisted }) {
		t.Fatal("the flush of one name dropped another")
	}
}
