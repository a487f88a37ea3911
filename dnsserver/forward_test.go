package dnsserver

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func TestUnlistedAndUnservedNamesForwarded(t *testing.T) {
	h := start(t, baseConfig())
	for name, want := range map[string]string{
		unlisted: "192.0.2.5",
		"myspecificbucket.s3-fips.eu-west-2.amazonaws.com.": "192.0.2.6",
	} {
		resp := h.query(t, name, dns.TypeA)
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != want || resp.Authoritative || !resp.RecursionAvailable {
			t.Fatalf("%s: %v", name, resp)
		}
		if h.up.Count(name, "udp") != 1 {
			t.Fatalf("%s asked upstream %d times", name, h.up.Count(name, "udp"))
		}
	}
	resp := h.query(t, "nx.example.", dns.TypeA)
	if resp.Rcode != dns.RcodeNameError || len(rrsOfType(resp.Ns, dns.TypeSOA)) != 1 {
		t.Fatalf("NXDOMAIN not passed through: %v", resp)
	}
}

func TestForwardedAnswersCachedAndRespelled(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, unlisted, dns.TypeA)
	mixed := "OtherBucket.S3.eu-WEST-2.amazonaws.com."
	resp := h.query(t, mixed, dns.TypeA)
	if resp.Question[0].Name != mixed || resp.Answer[0].Header().Name != mixed {
		t.Fatalf("spelling: question %q owner %q", resp.Question[0].Name, resp.Answer[0].Header().Name)
	}
	if n := h.up.Total(); n != 1 {
		t.Fatalf("upstream asked %d times, want 1 (cached)", n)
	}
	for _, q := range h.up.Asked() {
		if q.Question[0].Name != strings.ToLower(q.Question[0].Name) {
			t.Fatalf("upstream query not in canonical case: %s", q.Question[0].Name)
		}
	}
}

func TestAllUpstreamsDownGivesServfailInTime(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	a, b := dnstest.NewUpstream(t), dnstest.NewUpstream(t)
	a.SetMode(dnstest.Silent, 0)
	b.SetMode(dnstest.Silent, 0)
	h := startWith(t, baseConfig().with(func(c *serverConfig) { c.UpstreamTimeout = "200ms" }), a, b)
	start := time.Now()
	resp := h.query(t, unlisted, dns.TypeA)
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("resp: %v", resp)
	}
	// About upstream_timeout × upstreams; the slack is for a loaded machine, not a benchmark.
	if elapsed := time.Since(start); elapsed > 400*time.Millisecond+2*time.Second {
		t.Fatalf("SERVFAIL after %v", elapsed)
	}
	if a.Total() != 1 || b.Total() != 1 {
		t.Fatalf("upstreams asked %d and %d times", a.Total(), b.Total())
	}
}

func TestSecondUpstreamUsedWhenFirstRefuses(t *testing.T) {
	a, b := dnstest.NewUpstream(t), dnstest.NewUpstream(t, publicZone...)
	a.SetMode(dnstest.Refused, 0)
	h := startWith(t, baseConfig(), a, b)
	resp := h.query(t, unlisted, dns.TypeA)
	if len(resp.Answer) != 1 {
		t.Fatalf("resp: %v", resp)
	}
}

func TestTruncatedUpstreamRetriedOverTCP(t *testing.T) {
	h := start(t, baseConfig())
	h.up.SetMode(dnstest.Truncate, 0)
	resp := h.query(t, unlisted, dns.TypeA)
	if len(resp.Answer) != 1 || resp.Truncated {
		t.Fatalf("resp: %v", resp)
	}
	if h.up.Count(unlisted, "udp") != 1 || h.up.Count(unlisted, "tcp") != 1 {
		t.Fatalf("udp %d tcp %d", h.up.Count(unlisted, "udp"), h.up.Count(unlisted, "tcp"))
	}
}
