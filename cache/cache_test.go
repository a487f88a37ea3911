package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/upstream"
	"github.com/s3dns/s3dns/wire"
)

func setup(t *testing.T, cfg Config, records ...string) (*Cache, *dnstest.Upstream, *dnstest.Clock) {
	t.Helper()
	u := dnstest.NewUpstream(t, records...)
	clock := dnstest.NewClock()
	cfg.Clock = wire.NewClock(clock.Now)
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = 24 * time.Hour
	}
	if cfg.NegativeMaxTTL == 0 {
		cfg.NegativeMaxTTL = 5 * time.Minute
	}
	return New(cfg, upstream.New([]string{u.Addr}, 300*time.Millisecond)), u, clock
}

func resolve(t *testing.T, c *Cache, name string, qtype uint16) wire.Result {
	t.Helper()
	r, err := c.Resolve(context.Background(), wire.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTTLCountsDown(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100}, "www.example. 100 IN A 192.0.2.1")
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Source != wire.FromUpstream || r.Msg().Answer[0].Header().Ttl != 100 {
		t.Fatalf("first: %v %v", r.Source, r.Msg())
	}
	clock.Add(40 * time.Second)
	r := resolve(t, c, "WWW.Example.", dns.TypeA)
	if r.Source != wire.FromCache || r.Msg().Answer[0].Header().Ttl != 60 {
		t.Fatalf("after 40s: %v ttl %d", r.Source, r.Msg().Answer[0].Header().Ttl)
	}
	// The cached copy is not the one handed out.
	r.Msg().Answer[0].Header().Ttl = 1
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Msg().Answer[0].Header().Ttl != 60 {
		t.Fatal("caller's change leaked into the cache")
	}
	clock.Add(60 * time.Second)
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Source != wire.FromUpstream {
		t.Fatalf("expired entry served from %v", r.Source)
	}
	if n := u.Count("www.example.", "udp"); n != 2 {
		t.Fatalf("upstream asked %d times, want 2", n)
	}
}

func TestMaxTTLCap(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100, MaxTTL: 10 * time.Second}, "www.example. 86400 IN A 192.0.2.1")
	resolve(t, c, "www.example.", dns.TypeA)
	clock.Add(11 * time.Second)
	resolve(t, c, "www.example.", dns.TypeA)
	if n := u.Total(); n != 2 {
		t.Fatalf("upstream asked %d times, want 2 (cap at max_ttl)", n)
	}
}

func TestNegativeCaching(t *testing.T) {
	// dnstest.Soa has TTL 300 and MINIMUM 120: RFC 2308 takes the smaller.
	c, u, clock := setup(t, Config{MaxEntries: 100}, "www.example. 300 IN A 192.0.2.1")
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
	}{{"nx.example.", dns.TypeA, dns.RcodeNameError}, {"www.example.", dns.TypeTXT, dns.RcodeSuccess}} {
		if r := resolve(t, c, tc.name, tc.qtype); r.Msg().Rcode != tc.rcode {
			t.Fatalf("%s rcode %d", tc.name, r.Msg().Rcode)
		}
		clock.Add(119 * time.Second)
		if r := resolve(t, c, tc.name, tc.qtype); r.Source != wire.FromCache || r.Msg().Rcode != tc.rcode {
			t.Fatalf("%s within SOA minimum: %v", tc.name, r.Source)
		}
		clock.Add(2 * time.Second)
		if r := resolve(t, c, tc.name, tc.qtype); r.Source != wire.FromUpstream {
			t.Fatalf("%s after SOA minimum: %v", tc.name, r.Source)
		}
	}
	if u.Total() != 4 {
		t.Fatalf("upstream asked %d times", u.Total())
	}
}

func TestNegativeMaxTTLCap(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100, NegativeMaxTTL: 5 * time.Second})
	resolve(t, c, "nx.example.", dns.TypeA)
	clock.Add(6 * time.Second)
	resolve(t, c, "nx.example.", dns.TypeA)
	if u.Total() != 2 {
		t.Fatalf("upstream asked %d times, want 2 (negative cap)", u.Total())
	}
}

func TestKeyIncludesTypeClassAndDO(t *testing.T) {
	c, u, _ := setup(t, Config{MaxEntries: 100}, "www.example. 300 IN A 192.0.2.1", "www.example. 300 IN AAAA 2001:db8::1")
	ctx := context.Background()
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET})
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET, Opts: wire.OptDO})
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassCHAOS})
	c.Resolve(ctx, wire.Question{Name: "WWW.EXAMPLE.", Qtype: dns.TypeA, Qclass: dns.ClassINET, Opts: wire.OptDO})
	// RFC 6840 §5.9: answers to CD=1 queries are kept apart and CD goes upstream.
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET, Opts: wire.OptCD})
	c.Resolve(ctx, wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET, Opts: wire.OptCD})
	if u.Total() != 5 {
		t.Fatalf("upstream asked %d times, want 5", u.Total())
	}
	asked := u.Asked()
	if opt := asked[2].IsEdns0(); opt == nil || !opt.Do() || asked[2].CheckingDisabled {
		t.Fatal("DO bit not passed upstream")
	}
	if !asked[4].CheckingDisabled || asked[0].CheckingDisabled {
		t.Fatal("CD bit not passed upstream as asked")
	}
	// DNS Flag Day 2020: no fragmentation-prone buffer sizes upstream.
	if opt := asked[0].IsEdns0(); opt == nil || opt.UDPSize() != 1232 {
		t.Fatalf("upstream EDNS size %v, want 1232", opt)
	}
}

func TestCacheOff(t *testing.T) {
	c, u, _ := setup(t, Config{MaxEntries: 0}, "www.example. 300 IN A 192.0.2.1")
	resolve(t, c, "www.example.", dns.TypeA)
	resolve(t, c, "www.example.", dns.TypeA)
	if u.Total() != 2 || c.Len() != 0 {
		t.Fatalf("upstream asked %d times, len %d", u.Total(), c.Len())
	}
}

func TestBounded(t *testing.T) {
	c, u, _ := setup(t, Config{MaxEntries: 10})
	for i := range 200 {
		resolve(t, c, dns.Fqdn(string(rune('a'+i%26))+string(rune('a'+i/26))+".example"), dns.TypeA)
	}
	if n := c.Len(); n > 10 {
		t.Fatalf("cache holds %d entries, max 10", n)
	}
	if u.Total() != 200 {
		t.Fatalf("asked %d", u.Total())
	}
}

func TestConcurrentMissesCoalesced(t *testing.T) {
	c, u, _ := setup(t, Config{MaxEntries: 100}, "www.example. 300 IN A 192.0.2.1")
	u.SetMode(dnstest.Slow, 100*time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Resolve(context.Background(), wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			if err == nil && len(r.Msg().Answer) != 1 {
				t.Errorf("answer %v", r.Msg())
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := u.Total(); n != 1 {
		t.Fatalf("upstream asked %d times for 20 identical concurrent misses", n)
	}
}

func TestServeStale(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100, ServeStale: time.Hour}, "www.example. 60 IN A 192.0.2.1")
	resolve(t, c, "www.example.", dns.TypeA)
	clock.Add(30 * time.Minute)
	u.SetMode(dnstest.Servfail, 0)
	r := resolve(t, c, "www.example.", dns.TypeA)
	if r.Source != wire.FromStale || r.Msg().Answer[0].Header().Ttl != StaleTTL {
		t.Fatalf("stale: %v %v", r.Source, r.Msg())
	}
	clock.Add(31 * time.Minute)
	if _, err := c.Resolve(context.Background(), wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err == nil {
		t.Fatal("served stale beyond serve_stale")
	}
}

func TestNoStaleWithoutServeStale(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100}, "www.example. 60 IN A 192.0.2.1")
	resolve(t, c, "www.example.", dns.TypeA)
	clock.Add(61 * time.Second)
	u.SetMode(dnstest.Refused, 0)
	if _, err := c.Resolve(context.Background(), wire.Question{Name: "www.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err == nil {
		t.Fatal("expired answer served with serve_stale 0")
	}
}

// RFC 8767 §5: with stale data at hand, a slow upstream costs the client at
// most stale_answer_timeout, and the refresh goes on in the background.
func TestStaleAnswerTimeout(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	u := dnstest.NewUpstream(t, "www.example. 60 IN A 192.0.2.1")
	clock := dnstest.NewClock()
	c := New(Config{MaxEntries: 100, ServeStale: time.Hour, StaleAnswerTimeout: 50 * time.Millisecond, Clock: wire.NewClock(clock.Now)},
		upstream.New([]string{u.Addr}, 3*time.Second))
	resolve(t, c, "www.example.", dns.TypeA)
	clock.Add(2 * time.Minute)
	u.SetMode(dnstest.Slow, 800*time.Millisecond)
	start := time.Now()
	r := resolve(t, c, "www.example.", dns.TypeA)
	// Generous: the point is not waiting for the upstream's 800 ms reply.
	if r.Source != wire.FromStale || time.Since(start) > 700*time.Millisecond {
		t.Fatalf("answer from %v after %v, want stale after about 50ms", r.Source, time.Since(start))
	}
	// The refresh finishes in the background and is then served fresh.
	deadline := time.Now().Add(3 * time.Second)
	for e, _ := c.Fresh(&wire.Question{LName: lnameOf(t, "www.example."), Qtype: dns.TypeA, Qclass: dns.ClassINET}, new(wire.Entry)); e == nil; e, _ = c.Fresh(&wire.Question{LName: lnameOf(t, "www.example."), Qtype: dns.TypeA, Qclass: dns.ClassINET}, new(wire.Entry)) {
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never landed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Source != wire.FromCache {
		t.Fatalf("after the refresh: %v", r.Source)
	}
}

// RFC 8767 §5: after a failed refresh, stale answers go out at once for
// stale_recheck without asking the upstreams again.
func TestStaleRecheck(t *testing.T) {
	c, u, clock := setup(t, Config{MaxEntries: 100, ServeStale: time.Hour, StaleRecheck: 30 * time.Second},
		"www.example. 60 IN A 192.0.2.1")
	resolve(t, c, "www.example.", dns.TypeA)
	clock.Add(2 * time.Minute)
	u.SetMode(dnstest.Servfail, 0)
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Source != wire.FromStale {
		t.Fatalf("first failure: %v", r.Source)
	}
	asked := u.Total()
	clock.Add(20 * time.Second)
	if r := resolve(t, c, "www.example.", dns.TypeA); r.Source != wire.FromStale || u.Total() != asked {
		t.Fatalf("within stale_recheck: %v, upstream asked %d more times", r.Source, u.Total()-asked)
	}
	clock.Add(11 * time.Second)
	resolve(t, c, "www.example.", dns.TypeA)
	if u.Total() == asked {
		t.Fatal("not asked again after stale_recheck")
	}
}

func lnameOf(t *testing.T, name string) []byte {
	t.Helper()
	l, err := wire.PackName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
