package health

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
)

func TestFallAndRise(t *testing.T) {
	fail := errors.New("refused")
	s := newAddrState(time.Unix(0, 0))
	for i, c := range []struct {
		err     error
		up      bool
		changed bool
	}{
		{fail, true, false}, {nil, true, false}, // a success resets the count
		{fail, true, false}, {fail, true, false}, {fail, false, true}, // fall = 3
		{fail, false, false}, {nil, false, false}, {fail, false, false}, // a failure resets the rise count
		{nil, false, false}, {nil, true, true}, // rise = 2
	} {
		changed := s.record(c.err, 3, 2, time.Unix(int64(i), 0))
		if s.up != c.up || changed != c.changed {
			t.Fatalf("probe %d (%v): up %v changed %v, want %v %v", i, c.err, s.up, changed, c.up, c.changed)
		}
		// The last error is the last probe's: a good probe clears it, so
		// that s3dns status never shows an old error beside "up".
		want := ""
		if c.err != nil {
			want = c.err.Error()
		}
		if s.lastError != want {
			t.Fatalf("probe %d (%v): last error %q, want %q", i, c.err, s.lastError, want)
		}
	}
}

// fakeNet says which addresses accept connections.
type fakeNet struct {
	mu    sync.Mutex
	down  map[string]bool
	dials map[string]int
}

func (f *fakeNet) set(addr string, down bool) {
	f.mu.Lock()
	f.down[addr] = down
	f.mu.Unlock()
}

func (f *fakeNet) dial(_ context.Context, _, hostport string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(hostport)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials[host]++
	if f.down[host] {
		return nil, errors.New("connection refused")
	}
	c, s := net.Pipe()
	s.Close()
	return c, nil
}

func probed(t *testing.T, resolved ...string) (model.Endpoint, Resolver) {
	t.Helper()
	e := model.Endpoint{Region: "eu-west-2", Service: "s3", Hostname: "vpce-1.s3.eu-west-2.vpce.amazonaws.com.",
		Addresses: []netip.Addr{netip.MustParseAddr("10.9.9.9")},
		Health:    &model.HealthCheck{Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Port: 443, Fall: 2, Rise: 2}}
	var addrs []netip.Addr
	for _, r := range resolved {
		addrs = append(addrs, netip.MustParseAddr(r))
	}
	return e, func(context.Context, string) ([]netip.Addr, error) { return addrs, nil }
}

func TestMonitorProbesResolvedAndStaticAddresses(t *testing.T) {
	e, resolve := probed(t, "10.0.1.10", "10.0.2.10")
	fn := &fakeNet{down: map[string]bool{"10.0.2.10": true}, dials: map[string]int{}}
	m := New([]model.Endpoint{{Service: "s3"}, e}, resolve, Options{Dial: fn.dial}, nil)
	if New([]model.Endpoint{{Service: "s3"}}, resolve, Options{}, nil) != nil {
		t.Fatal("a monitor without any endpoint to probe")
	}
	v := m.For(1)
	if !v.On() || m.For(0).On() || v.Down(netip.MustParseAddr("10.0.2.10")) {
		t.Fatal("before any probe, every address counts as up")
	}
	gen := m.Gen()
	m.Start(context.Background())
	defer m.Stop()
	dnstest.WaitFor(t, "10.0.2.10 down", 5*time.Second, func() bool { return v.Down(netip.MustParseAddr("10.0.2.10")) })
	if v.Down(netip.MustParseAddr("10.0.1.10")) || v.Down(netip.MustParseAddr("10.9.9.9")) || v.NoneUp() || m.Gen() == gen {
		t.Fatal("only the failing address is down, and the generation moved")
	}
	fn.set("10.0.1.10", true)
	fn.set("10.9.9.9", true)
	dnstest.WaitFor(t, "none up", 5*time.Second, v.NoneUp)
	fn.set("10.0.2.10", false)
	dnstest.WaitFor(t, "10.0.2.10 back", 5*time.Second, func() bool { return !v.Down(netip.MustParseAddr("10.0.2.10")) })
	st := m.Status()
	if len(st) != 1 || st[0].Endpoint != "endpoints[1]" || len(st[0].Addresses) != 3 || !st[0].Probed {
		t.Fatalf("status %+v", st)
	}
	for _, a := range st[0].Addresses {
		if a.Up != (a.Address == "10.0.2.10") || !a.Up && a.LastError == "" {
			t.Fatalf("status of %+v", a)
		}
	}
	fn.mu.Lock()
	defer fn.mu.Unlock()
	for host := range fn.dials {
		if host != "10.0.1.10" && host != "10.0.2.10" && host != "10.9.9.9" {
			t.Fatalf("probed %s, which is not the endpoint's", host)
		}
	}
}

// A reload hands what was learnt to the new monitor for the same endpoint,
// and starts afresh for a changed one.
func TestReloadKeepsWhatWasLearnt(t *testing.T) {
	e, resolve := probed(t, "10.0.1.10")
	fn := &fakeNet{down: map[string]bool{"10.0.1.10": true}, dials: map[string]int{}}
	m := New([]model.Endpoint{e}, resolve, Options{Dial: fn.dial}, nil)
	m.Start(context.Background())
	a := netip.MustParseAddr("10.0.1.10")
	dnstest.WaitFor(t, "down", 5*time.Second, func() bool { return m.For(0).Down(a) })
	m.Stop()
	same := New([]model.Endpoint{e}, resolve, Options{Dial: fn.dial}, m)
	if !same.For(0).Down(a) {
		t.Fatal("the same endpoint after a reload forgot its down address")
	}
	changed := e
	h := *e.Health
	h.Port = 8443
	changed.Health = &h
	if New([]model.Endpoint{changed}, resolve, Options{Dial: fn.dial}, m).For(0).Down(a) {
		t.Fatal("a changed health check kept the old state")
	}
}
