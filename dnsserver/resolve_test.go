package dnsserver

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func TestListedBucketGetsCNAMEAndEndpointAddresses(t *testing.T) {
	h := start(t, baseConfig())
	for _, network := range []string{"udp", "tcp"} {
		resp := h.ask(t, network, question(listed, dns.TypeA))
		if resp.Rcode != dns.RcodeSuccess || !resp.Authoritative || !resp.RecursionAvailable {
			t.Fatalf("%s header: %v", network, resp.MsgHdr)
		}
		if len(resp.Answer) != 3 {
			t.Fatalf("%s answer: %v", network, resp.Answer)
		}
		cname, ok := resp.Answer[0].(*dns.CNAME)
		if !ok || cname.Hdr.Name != listed || cname.Target != vpce || cname.Hdr.Ttl != 60 {
			t.Fatalf("%s first record: %v", network, resp.Answer[0])
		}
		for _, rr := range resp.Answer[1:] {
			a, ok := rr.(*dns.A)
			if !ok || a.Hdr.Name != vpce || a.A.String()[:7] != "10.1.0." {
				t.Fatalf("%s target record: %v", network, rr)
			}
		}
	}
	// The endpoint's records are cached; the bucket's public name is never asked.
	if h.up.Count(vpce, "udp") != 1 || h.up.Count(listed, "udp") != 0 {
		t.Fatalf("upstream: vpce %d, listed %d", h.up.Count(vpce, "udp"), h.up.Count(listed, "udp"))
	}
}

func TestGlobAndAAAAThroughCNAME(t *testing.T) {
	h := start(t, baseConfig())
	resp := h.query(t, "logs-2024.s3.eu-west-2.amazonaws.com.", dns.TypeAAAA)
	if len(resp.Answer) != 2 || resp.Answer[1].(*dns.AAAA).AAAA.String() != "fd00::10" {
		t.Fatalf("answer: %v", resp.Answer)
	}
}

func TestCNAMENoDataCarriesTargetSOA(t *testing.T) {
	h := start(t, baseConfig())
	resp := h.query(t, listed, dns.TypeTXT)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || len(rrsOfType(resp.Ns, dns.TypeSOA)) != 1 {
		t.Fatalf("resp: %v", resp)
	}
}

func TestTargetTTLCountsDownCNAMETTLFixed(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA)
	h.clock.Add(25 * time.Second)
	resp := h.query(t, "MySpecificBucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	if resp.Answer[0].Header().Ttl != 60 || resp.Answer[1].Header().Ttl != 35 {
		t.Fatalf("TTLs: cname %d target %d", resp.Answer[0].Header().Ttl, resp.Answer[1].Header().Ttl)
	}
	if h.up.Count(vpce, "udp") != 1 {
		t.Fatalf("target asked %d times", h.up.Count(vpce, "udp"))
	}
}

func TestOnUnresolved(t *testing.T) {
	cases := []struct {
		onUnresolved string
		check        func(t *testing.T, resp *dns.Msg)
	}{
		{"cname", func(t *testing.T, resp *dns.Msg) {
			if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME {
				t.Fatalf("want the CNAME alone: %v", resp)
			}
		}},
		{"public", func(t *testing.T, resp *dns.Msg) {
			if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.7" || resp.Authoritative {
				t.Fatalf("want the public answer: %v", resp)
			}
		}},
		{"servfail", func(t *testing.T, resp *dns.Msg) {
			if resp.Rcode != dns.RcodeServerFailure || len(resp.Answer) != 0 {
				t.Fatalf("want SERVFAIL: %v", resp)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.onUnresolved, func(t *testing.T) {
			h := start(t, baseConfig().with(func(c *serverConfig) { c.Endpoints[0].OnUnresolved = tc.onUnresolved }))
			h.up.FailName(vpce)
			tc.check(t, h.query(t, listed, dns.TypeA))
		})
	}
}

func TestUnresolvedWhenUpstreamSilentNeverHangs(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Endpoints[0].OnUnresolved = "cname" }))
	h.up.SetMode(dnstest.Silent, 0)
	start := time.Now()
	resp := h.query(t, listed, dns.TypeA)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("want the CNAME alone: %v", resp)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("answered after %v (timeout 300ms)", elapsed)
	}
}

func TestStaticAddressesFallback(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) {
		c.Endpoints[0].Addresses, c.Endpoints[0].OnUnresolved = []string{"10.9.0.1", "fd00::9"}, "servfail"
	}))
	h.up.FailName(vpce)
	resp := h.query(t, listed, dns.TypeA)
	if len(resp.Answer) != 2 || resp.Answer[1].(*dns.A).A.String() != "10.9.0.1" {
		t.Fatalf("resp: %v", resp)
	}
}

func TestAliasMode(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) { c.Endpoints[0].Answer, c.Endpoints[0].TTL = "alias", "30s" }))
	resp := h.query(t, "MySpecificBucket.S3.eu-west-2.amazonaws.com.", dns.TypeA)
	if len(resp.Answer) != 2 || !resp.Authoritative {
		t.Fatalf("resp: %v", resp)
	}
	for _, rr := range resp.Answer {
		if rr.Header().Name != "MySpecificBucket.S3.eu-west-2.amazonaws.com." || rr.Header().Ttl != 30 || rr.Header().Rrtype != dns.TypeA {
			t.Fatalf("record: %v", rr)
		}
	}
	resp = h.query(t, listed, dns.TypeMX)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 || len(rrsOfType(resp.Ns, dns.TypeSOA)) != 1 {
		t.Fatalf("MX: %v", resp)
	}
	h.up.FailName(vpce)
	h.clock.Add(time.Hour)
	if resp := h.query(t, listed, dns.TypeA); resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("alias unresolved: %v", resp)
	}
}

func TestAddressesOnlyEndpoint(t *testing.T) {
	h := start(t, serverConfig{Endpoints: []serverEndpoint{{Region: "eu-west-2", Addresses: []string{"10.7.0.1"}, Buckets: []string{"myspecificbucket"}}}})
	resp := h.query(t, listed, dns.TypeA)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Name != listed || h.up.Total() != 0 {
		t.Fatalf("resp %v, upstream asked %d", resp, h.up.Total())
	}
}

// Issue 17, item 12: an alias answer's TTL is min(endpoint TTL, target's
// remaining TTL) whenever it is served: from the packed answer later on,
// the same as a fresh synthesis at that moment would give.
func TestAliasTTLSameOnBothSpeeds(t *testing.T) {
	up := dnstest.NewUpstream(t, vpce+" 300 IN A 10.1.0.10")
	h := startWith(t, baseConfig().with(func(c *serverConfig) { c.Endpoints[0].Answer = "alias" }), up)
	ttl := func(m *dns.Msg) uint32 {
		if len(m.Answer) != 1 {
			t.Fatalf("alias answer: %v", m)
		}
		return m.Answer[0].Header().Ttl
	}
	if got := ttl(h.query(t, listed, dns.TypeA)); got != 60 {
		t.Fatalf("fresh: TTL %d, want the endpoint's 60", got)
	}
	for _, c := range []struct {
		after time.Duration
		want  uint32
	}{{30 * time.Second, 60}, {220 * time.Second, 50}, {20 * time.Second, 30}} {
		h.clock.Add(c.after)
		for _, network := range []string{"udp", "tcp"} {
			if got := ttl(h.ask(t, network, question(listed, dns.TypeA))); got != c.want {
				t.Fatalf("packed answer over %s: TTL %d, want %d", network, got, c.want)
			}
		}
		// A fresh synthesis (a new State: no packed endpoint answers, the
		// same cache) gives the same.
		st := h.srv.State()
		h.srv.Swap(h.stateFor(st.Config))
		if got := ttl(h.query(t, listed, dns.TypeA)); got != c.want {
			t.Fatalf("fresh synthesis: TTL %d, want %d", got, c.want)
		}
	}
	if up.Count(vpce, "udp") != 1 {
		t.Fatalf("the target was asked %d times; its cached answer should serve", up.Count(vpce, "udp"))
	}
}
