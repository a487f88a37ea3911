package dnsserver

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// interfaces are an endpoint's two "network interfaces": TCP listeners on
// two loopback addresses, one port, that can be closed and opened again.
type interfaces struct {
	mu    sync.Mutex
	addrs []string
	port  string
	lns   map[string]net.Listener
}

func newInterfaces(t *testing.T, addrs ...string) *interfaces {
	t.Helper()
	f := &interfaces{addrs: addrs, lns: map[string]net.Listener{}}
	for try := 0; f.port == "" && try < 20; try++ {
		ln, err := net.Listen("tcp", addrs[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		f.lns[addrs[0]] = ln
		f.port = port
		for _, a := range addrs[1:] {
			if err := f.open(a); err != nil {
				f.closeAll()
				f.port = ""
			}
		}
	}
	if f.port == "" {
		t.Fatal("no port free on every test address")
	}
	for _, ln := range f.lns {
		go acceptAndClose(ln)
	}
	t.Cleanup(f.closeAll)
	return f
}

func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func (f *interfaces) open(a string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(a, f.port))
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.lns[a] = ln
	f.mu.Unlock()
	return nil
}

func (f *interfaces) reopen(t *testing.T, a string) {
	t.Helper()
	if err := f.open(a); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	go acceptAndClose(f.lns[a])
	f.mu.Unlock()
}

func (f *interfaces) close(a string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ln := f.lns[a]; ln != nil {
		ln.Close()
		delete(f.lns, a)
	}
}

func (f *interfaces) closeAll() {
	for _, a := range f.addrs {
		f.close(a)
	}
}

// healthServer serves the listed bucket through an endpoint whose hostname
// resolves to the two interfaces, probed every 100 ms (down after 2
// failures, up after 2 successes).
func healthServer(t *testing.T, onUnhealthy string) (*harness, *interfaces) {
	t.Helper()
	ifs := newInterfaces(t, "127.0.0.21", "127.0.0.22")
	up := dnstest.NewUpstream(t, vpce+" 60 IN A 127.0.0.21", vpce+" 60 IN A 127.0.0.22", listed+" 300 IN A 192.0.2.7")
	h := startWith(t, baseConfig().with(func(c *serverConfig) {
		c.Endpoints[0].Health = map[string]any{"interval": "100ms", "timeout": "50ms", "port": ifs.port, "fall": 2, "rise": 2}
		c.Endpoints[0].OnUnhealthy = onUnhealthy
	}), up)
	return h, ifs
}

// addrsOf is an answer's A records, sorted.
func addrsOf(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// eventually asks until every transport (UDP twice: the second from the
// fast path once kept; TCP) gives want, or fails after a few seconds.
func eventually(t *testing.T, h *harness, name string, want func(*dns.Msg) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		var last *dns.Msg
		for _, network := range []string{"udp", "udp", "tcp"} {
			if last = h.ask(t, network, question(name, dns.TypeA)); !want(last) {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never got %s; last answer:\n%v", name, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func only(addrs ...string) func(*dns.Msg) bool {
	return func(m *dns.Msg) bool { return m.Rcode == dns.RcodeSuccess && slices.Equal(addrsOf(m), addrs) }
}

func TestEndpointHealthLeavesDownAddressesOut(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	h, ifs := healthServer(t, "keep")
	both := only("127.0.0.21", "127.0.0.22")
	eventually(t, h, listed, both, "both addresses")
	ifs.close("127.0.0.21")
	eventually(t, h, listed, only("127.0.0.22"), "the healthy address only")
	// A resolver chasing the CNAME asks for the hostname itself.
	eventually(t, h, vpce, only("127.0.0.22"), "the healthy address only, for the hostname")
	ifs.reopen(t, "127.0.0.21")
	eventually(t, h, listed, both, "both addresses again after rise")
	eventually(t, h, vpce, both, "both addresses again for the hostname")
	if got := testutil.ToFloat64(h.metrics.EndpointUp.WithLabelValues("s3-eu-west-2", "127.0.0.21")); got != 1 {
		t.Fatalf("s3dns_endpoint_up = %v after the address came back", got)
	}
	if got := testutil.ToFloat64(h.metrics.EndpointProbes.WithLabelValues("s3-eu-west-2", "failure")); got < 2 {
		t.Fatalf("failed probes counted: %v", got)
	}
}

func TestOnUnhealthy(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	servfail := func(m *dns.Msg) bool { return m.Rcode == dns.RcodeServerFailure }
	every := only("127.0.0.21", "127.0.0.22")
	for _, c := range []struct {
		mode string
		want func(*dns.Msg) bool
		what string
		// What the endpoint's own hostname gets with every address down
		// (issue 17, item 10: with servfail, SERVFAIL there too).
		host func(*dns.Msg) bool
	}{
		{"keep", every, "every address, as without health checks", every},
		{"public", func(m *dns.Msg) bool { return !m.Authoritative && slices.Equal(addrsOf(m), []string{"192.0.2.7"}) }, "the public answer", every},
		{"servfail", servfail, "SERVFAIL", servfail},
	} {
		t.Run(c.mode, func(t *testing.T) {
			h, ifs := healthServer(t, c.mode)
			eventually(t, h, listed, only("127.0.0.21", "127.0.0.22"), "both addresses")
			ifs.closeAll()
			deadline := time.Now().Add(5 * time.Second)
			for !h.srv.State().Health.For(0).NoneUp() {
				if time.Now().After(deadline) {
					t.Fatal("the addresses were never seen down")
				}
				time.Sleep(10 * time.Millisecond)
			}
			eventually(t, h, listed, c.want, c.what)
			eventually(t, h, vpce, c.host, "for the hostname")
			ifs.reopen(t, "127.0.0.22")
			eventually(t, h, listed, only("127.0.0.22"), "the address that came back")
		})
	}
}

// Without health, nothing is probed and nothing changes.
func TestNoHealthNoProbes(t *testing.T) {
	h := start(t, baseConfig())
	if h.srv.State().Health != nil {
		t.Fatal("a monitor without any health check configured")
	}
	if got := addrsOf(h.query(t, listed, dns.TypeA)); !slices.Equal(got, []string{"10.1.0.10", "10.1.0.11"}) {
		t.Fatalf("answer %v", got)
	}
}

// Issue 17, item 9: with health checks on, the endpoint's addresses and
// fail-open public answers are given out for at most interval × fall (here
// 100 ms × 2, at least 1 s), so that downstream caches follow a change as
// quickly as s3dns does; the CNAME keeps the endpoint's TTL.
func TestHealthBoundsTTLs(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	ttls := func(m *dns.Msg, rrtype uint16) []uint32 {
		var out []uint32
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == rrtype {
				out = append(out, rr.Header().Ttl)
			}
		}
		return out
	}
	capped := func(m *dns.Msg) bool {
		a := ttls(m, dns.TypeA)
		return len(a) > 0 && slices.Max(a) <= 1
	}
	h, ifs := healthServer(t, "public")
	eventually(t, h, listed, func(m *dns.Msg) bool { return capped(m) && len(addrsOf(m)) == 2 }, "both addresses, TTL 1")
	if cname := ttls(h.query(t, listed, dns.TypeA), dns.TypeCNAME); len(cname) != 1 || cname[0] != 60 {
		t.Fatalf("CNAME TTLs %v, want the endpoint's 60", cname)
	}
	eventually(t, h, vpce, capped, "the hostname's addresses with TTL 1")
	ifs.closeAll()
	eventually(t, h, listed, func(m *dns.Msg) bool { return !m.Authoritative && capped(m) }, "the public answer (TTL 300 upstream) with TTL 1")
	// Without health, the TTLs are the upstream's.
	plain := start(t, baseConfig())
	if a := ttls(plain.query(t, listed, dns.TypeA), dns.TypeA); len(a) != 2 || a[0] != 60 {
		t.Fatalf("without health: A TTLs %v", a)
	}
}

// A fallback endpoint (a cross-Region one, say) answers the listed names
// while every address of the endpoint is down, before on_unhealthy
// applies; once an address is back, the endpoint answers again.
func TestFallbackWhileEveryAddressIsDown(t *testing.T) {
	t.Parallel() // waits on health checks
	const crossRegion = "vpce-0c0c.s3.eu-west-2.vpce.amazonaws.com."
	ifs := newInterfaces(t, "127.0.0.21", "127.0.0.22")
	up := dnstest.NewUpstream(t, vpce+" 60 IN A 127.0.0.21", vpce+" 60 IN A 127.0.0.22", crossRegion+" 60 IN A 127.0.0.31",
		listed+" 300 IN A 192.0.2.7")
	h := startWith(t, baseConfig().with(func(c *serverConfig) {
		c.Endpoints[0].Name = "s3-london"
		c.Endpoints[0].Health = map[string]any{"interval": "100ms", "timeout": "50ms", "port": ifs.port, "fall": 2, "rise": 2}
		c.Endpoints[0].OnUnhealthy = "servfail"
		c.Endpoints[0].Fallback = []string{"s3-cross-region"}
		c.Endpoints = append(c.Endpoints, serverEndpoint{Name: "s3-cross-region", Region: "eu-west-2", Hostname: crossRegion})
	}), up)
	eventually(t, h, listed, only("127.0.0.21", "127.0.0.22"), "both addresses")
	ifs.closeAll()
	viaFallback := func(m *dns.Msg) bool {
		if len(m.Answer) == 0 {
			return false
		}
		cname, ok := m.Answer[0].(*dns.CNAME)
		return m.Rcode == dns.RcodeSuccess && ok && cname.Target == crossRegion && slices.Equal(addrsOf(m), []string{"127.0.0.31"})
	}
	eventually(t, h, listed, viaFallback, "the fallback endpoint's answer, not SERVFAIL")
	answered := func(endpoint string) float64 {
		return testutil.ToFloat64(h.metrics.Requests.WithLabelValues("udp", "udp", "A", "endpoint", endpoint))
	}
	answeredBy := func() string { return h.srv.State().Health.Status()[0].AnsweredBy }
	if answeredBy() != "s3-cross-region" {
		t.Errorf("status: answered by %q while every address is down, want s3-cross-region", answeredBy())
	}
	before := answered("s3-cross-region")
	for range 2 { // the full path, then the fast path: both count the fallback
		h.query(t, listed, dns.TypeA)
	}
	// A full-path reply is counted once written: just after the client has it.
	dnstest.WaitFor(t, "both queries counted", 2*time.Second, func() bool { return answered("s3-cross-region")-before >= 2 })
	if got := answered("s3-cross-region") - before; got != 2 {
		t.Errorf("s3dns_requests_total{endpoint=s3-cross-region} grew by %v, want 2", got)
	}
	ifs.reopen(t, "127.0.0.22")
	eventually(t, h, listed, only("127.0.0.22"), "the endpoint's own address once it is back")
	if answeredBy() != "" {
		t.Errorf("status: answered by %q once an address is back, want none", answeredBy())
	}
	dnstest.WaitFor(t, "the endpoint's own answers counted again", 2*time.Second, func() bool { return answered("s3-london") >= 1 })
}
