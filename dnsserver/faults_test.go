package dnsserver

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// TestFaultMatrix breaks the only upstream in one way at a time and checks
// what the README promises: unlisted names get SERVFAIL within the bound, listed
// buckets are answered per on_unresolved, other clients keep being served,
// and no query is left on the full path.
func TestFaultMatrix(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	const timeout = 200 * time.Millisecond
	bound := timeout + 2*time.Second // the slack is for a loaded machine
	cfg := baseConfig().with(func(c *serverConfig) {
		c.Endpoints = append(c.Endpoints,
			serverEndpoint{Region: "us-east-1", Hostname: "vpce-9.s3.us-east-1.vpce.amazonaws.com", Buckets: []string{"closed"}, OnUnresolved: "servfail"},
			serverEndpoint{Region: "us-west-2", Hostname: "vpce-8.s3.us-west-2.vpce.amazonaws.com", Addresses: []string{"10.8.0.1"}, Buckets: []string{"static"}})
		c.UpstreamTimeout = "200ms"
	})
	for _, f := range dnstest.Faults {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			up := dnstest.NewUpstream(t, publicZone...)
			h := startWith(t, cfg, up)
			up.SetMode(f.Mode, 3*timeout)

			checks := []struct {
				name  string
				check func(*dns.Msg) bool
			}{
				{unlisted, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeServerFailure }},
				{listed, func(r *dns.Msg) bool { // on_unresolved: cname
					return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 && r.Answer[0].Header().Rrtype == dns.TypeCNAME
				}},
				{"closed.s3.us-east-1.amazonaws.com.", func(r *dns.Msg) bool { return r.Rcode == dns.RcodeServerFailure }},
				{"static.s3.us-west-2.amazonaws.com.", func(r *dns.Msg) bool { // addresses before on_unresolved
					return len(r.Answer) == 2 && r.Answer[1].(*dns.A).A.String() == "10.8.0.1"
				}},
			}
			var wg sync.WaitGroup
			for _, c := range checks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(question(c.name, dns.TypeA), h.addr)
					if err != nil || !c.check(resp) {
						t.Errorf("%s: %v %v", c.name, err, resp)
					}
					if elapsed := time.Since(start); elapsed > bound {
						t.Errorf("%s: answered after %v", c.name, elapsed)
					}
				}()
			}
			// Meanwhile another client is served at once (no upstream needed).
			other := &dns.Client{Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}}
			resp, rtt, err := other.Exchange(question(listed, dns.TypeCNAME), h.addr)
			if err != nil || len(resp.Answer) != 1 || rtt > bound {
				t.Errorf("other client: %v %v after %v", resp, err, rtt)
			}
			wg.Wait()

			// Nothing is left on the full path: every query ended. (The
			// server's own count: the process's goroutines are shared with
			// the tests running beside this one.)
			dnstest.WaitFor(t, "the full path to empty", 5*time.Second, func() bool {
				return testutil.ToFloat64(h.metrics.InFlight) == 0
			})
		})
	}
}

func TestServeStaleForForwardedNamesAndTargets(t *testing.T) {
	h := start(t, baseConfig().with(func(c *serverConfig) {
		c.Endpoints[0].OnUnresolved, c.Cache = "servfail", map[string]any{"serve_stale": "1h"}
	}))
	h.query(t, unlisted, dns.TypeA)
	h.query(t, listed, dns.TypeA)
	h.clock.Add(10 * time.Minute) // both expired
	h.up.SetMode(dnstest.Servfail, 0)

	resp := h.query(t, unlisted, dns.TypeA)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Ttl != 30 {
		t.Fatalf("forwarded name not served stale: %v", resp)
	}
	resp = h.query(t, listed, dns.TypeA)
	if len(resp.Answer) != 3 || resp.Answer[0].Header().Ttl != 60 || resp.Answer[1].Header().Ttl != 30 {
		t.Fatalf("CNAME target not served stale: %v", resp)
	}
	if resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %d", resp.Rcode)
	}
	h.clock.Add(time.Hour)
	if resp := h.query(t, unlisted, dns.TypeA); resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("stale beyond serve_stale: %v", resp)
	}
}

// A flood of misses against a silent upstream cannot pile up goroutines:
// beyond the cap, queries get SERVFAIL at once.
func TestFullPathCapped(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t)
	up.SetMode(dnstest.Silent, 0)
	h := startOpts(t, baseConfig().with(func(c *serverConfig) { c.UpstreamTimeout = "2s" }), Options{MaxFullPath: 2}, up)
	type result struct {
		rcode int
		rtt   time.Duration
	}
	results := make(chan result, 6)
	for i := range 6 {
		go func() {
			resp, rtt, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(question(fmt.Sprintf("n%d.example.", i), dns.TypeA), h.addr)
			if err != nil {
				results <- result{-1, rtt}
				return
			}
			results <- result{resp.Rcode, rtt}
		}()
	}
	quick := 0
	for range 6 {
		if r := <-results; r.rcode == dns.RcodeServerFailure && r.rtt < time.Second {
			quick++
		}
	}
	if quick < 4 {
		t.Fatalf("%d of 6 queries got a quick SERVFAIL with room for 2 on the full path", quick)
	}
}

// RFC 9520: a burst of queries for a name whose resolution fails asks the
// upstreams once; each client still gets its answer at once (SERVFAIL, or
// for a listed bucket whose endpoint hostname fails, the CNAME alone).
func TestResolutionFailureAskedOnce(t *testing.T) {
	up := dnstest.NewUpstream(t, publicZone...)
	up.FailName(unlisted)
	up.FailName(vpce)
	h := startWith(t, baseConfig(), up)
	for i := range 20 {
		network := []string{"udp", "tcp"}[i%2]
		if resp := h.ask(t, network, question(unlisted, dns.TypeA)); resp.Rcode != dns.RcodeServerFailure {
			t.Fatalf("query %d for the failing name: %v", i, resp)
		}
		if resp := h.ask(t, network, question(listed, dns.TypeA)); resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
			t.Fatalf("query %d for the listed bucket: %v", i, resp)
		}
	}
	if n, m := up.Count(unlisted, "udp"), up.Count(vpce, "udp"); n != 1 || m != 1 {
		t.Fatalf("upstream asked %d times for the failing name and %d for the endpoint hostname, want once each", n, m)
	}
}
