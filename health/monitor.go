package health

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dns/s3dns/model"
)

// Resolver gives the endpoint hostname's current addresses (A and AAAA,
// through the cache: probing costs the upstreams nothing extra).
type Resolver func(ctx context.Context, hostname string) ([]netip.Addr, error)

// Observer is told about every probe and every address's state, for metrics.
type Observer interface {
	Probe(endpoint, result string)
	AddressUp(endpoint, address string, up bool)
	Forget(endpoint, address string)
}

// Monitor probes the endpoints of one configuration that have health set.
// It is safe for concurrent use; answers read it on the query path.
type Monitor struct {
	endpoints []*endpoint // by configuration index; nil where health is off
	names     []string    // every endpoint's label, by configuration index
	gen       atomic.Uint64
	log       *slog.Logger
	observe   Observer
	resolve   Resolver
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	now       func() time.Time
	cancel    context.CancelFunc
	done      sync.WaitGroup
}

// endpoint is one probed endpoint: its addresses and their states.
type endpoint struct {
	index int
	label string // for logs and metrics: the endpoint's name
	cfg   model.Endpoint
	mu    sync.Mutex
	addrs map[netip.Addr]*addrState
	// probed: every address has been probed at least once.
	probed bool
}

// Options are the monitor's collaborators; zero fields get defaults.
type Options struct {
	Log      *slog.Logger
	Observer Observer
	// Dial opens the probe connection (net.Dialer's by default).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
}

// New returns a monitor for the endpoints with health set, or nil when none
// has it. previous, when given, hands over the states of addresses it
// already knows (a reload keeps what it learnt).
func New(endpoints []model.Endpoint, resolve Resolver, opts Options, previous *Monitor) *Monitor {
	m := &Monitor{endpoints: make([]*endpoint, len(endpoints)), log: opts.Log, observe: opts.Observer,
		resolve: resolve, dial: opts.Dial, now: opts.Now}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.dial == nil {
		m.dial = (&net.Dialer{}).DialContext
	}
	if m.now == nil {
		m.now = time.Now
	}
	any := false
	for i, e := range endpoints {
		m.names = append(m.names, cmp.Or(e.Name, fmt.Sprintf("endpoints[%d]", i)))
		if e.Health == nil {
			continue
		}
		any = true
		ep := &endpoint{index: i, label: m.names[i], cfg: e, addrs: map[netip.Addr]*addrState{}}
		if old := previous.same(e, i); old != nil {
			old.mu.Lock()
			for a, s := range old.addrs {
				c := *s
				ep.addrs[a] = &c
			}
			ep.probed = old.probed
			old.mu.Unlock()
		}
		m.endpoints[i] = ep
	}
	if !any {
		return nil
	}
	return m
}

// same returns the previous monitor's endpoint i when it probes the same
// hostname, addresses and port.
func (m *Monitor) same(e model.Endpoint, i int) *endpoint {
	if m == nil || i >= len(m.endpoints) || m.endpoints[i] == nil {
		return nil
	}
	old := m.endpoints[i]
	if old.cfg.Hostname != e.Hostname || !slices.Equal(old.cfg.Addresses, e.Addresses) || *old.cfg.Health != *e.Health {
		return nil
	}
	return old
}

// Start probes in the background until Stop or ctx ends.
func (m *Monitor) Start(ctx context.Context) {
	if m == nil {
		return
	}
	ctx, m.cancel = context.WithCancel(ctx)
	for _, ep := range m.endpoints {
		if ep == nil {
			continue
		}
		m.done.Add(1)
		go func() {
			defer m.done.Done()
			m.run(ctx, ep)
		}()
	}
}

// Stop ends the probing and waits for it.
func (m *Monitor) Stop() {
	if m == nil || m.cancel == nil {
		return
	}
	m.cancel()
	m.done.Wait()
}

// run probes one endpoint every interval, jittered by up to a tenth so that
// many endpoints and s3dns instances do not probe in step.
func (m *Monitor) run(ctx context.Context, ep *endpoint) {
	h := ep.cfg.Health
	for {
		m.round(ctx, ep)
		jitter := time.Duration(rand.Int64N(int64(h.Interval)/10 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(h.Interval - h.Interval/20 + jitter):
		}
	}
}

// round probes every current address of ep once, in parallel: at most one
// probe per address is ever in flight.
func (m *Monitor) round(ctx context.Context, ep *endpoint) {
	addrs := m.currentAddrs(ctx, ep)
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.probe(ctx, ep, a)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	ep.mu.Lock()
	for a := range ep.addrs {
		if !slices.Contains(addrs, a) { // the endpoint no longer has it
			delete(ep.addrs, a)
			if m.observe != nil {
				m.observe.Forget(ep.label, a.String())
			}
		}
	}
	ep.probed = true
	ep.mu.Unlock()
}

// currentAddrs are the hostname's addresses as now resolved, and the static ones.
func (m *Monitor) currentAddrs(ctx context.Context, ep *endpoint) []netip.Addr {
	addrs := slices.Clone(ep.cfg.Addresses)
	if ep.cfg.Hostname != "" {
		resolved, err := m.resolve(ctx, ep.cfg.Hostname)
		if err != nil {
			m.log.Debug("endpoint health: hostname unresolved, probing the addresses known", "endpoint", ep.label, "error", err)
			ep.mu.Lock()
			for a := range ep.addrs {
				resolved = append(resolved, a)
			}
			ep.mu.Unlock()
		}
		addrs = append(addrs, resolved...)
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(addrs)
}

// probe opens one TCP connection to a on the endpoint's port.
func (m *Monitor) probe(ctx context.Context, ep *endpoint, a netip.Addr) {
	h := ep.cfg.Health
	pctx, cancel := context.WithTimeout(ctx, h.Timeout)
	conn, err := m.dial(pctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(h.Port)))
	cancel()
	if conn != nil {
		conn.Close()
	}
	if ctx.Err() != nil {
		return // stopping: not the endpoint's fault
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	if m.observe != nil {
		m.observe.Probe(ep.label, result)
	}
	ep.mu.Lock()
	s, ok := ep.addrs[a]
	if !ok {
		s = newAddrState(m.now())
		ep.addrs[a] = s
	}
	changed := s.record(err, h.Fall, h.Rise, m.now())
	up := s.up
	ep.mu.Unlock()
	if m.observe != nil {
		m.observe.AddressUp(ep.label, a.String(), up)
	}
	if changed {
		m.gen.Add(1)
		if up {
			m.log.Info("endpoint address up", "endpoint", ep.label, "hostname", ep.cfg.Hostname, "address", a.String())
		} else {
			m.log.Warn("endpoint address down", "endpoint", ep.label, "hostname", ep.cfg.Hostname, "address", a.String(),
				"port", h.Port, "error", err)
		}
		m.logAnswering(ep)
	}
}

// logAnswering says, when an endpoint has just lost its last address, who
// answers its names now.
func (m *Monitor) logAnswering(ep *endpoint) {
	by, fallback := m.Answering(ep.index)
	switch {
	case fallback:
		m.log.Warn("every address of the endpoint is down: its fallback answers its names", "endpoint", ep.label, "fallback", m.names[by])
	case m.For(ep.index).NoneUp():
		m.log.Warn("every address of the endpoint is down and no fallback has one up: on_unhealthy decides", "endpoint", ep.label,
			"on_unhealthy", ep.cfg.OnUnhealthy)
	}
}

// Answering is the endpoint that answers endpoint i's names: i itself, or,
// while every address of i is down, the first of its fallbacks with an
// address up (or not probed), and then fallback is true. With none, i
// answers, and its on_unhealthy decides how.
func (m *Monitor) Answering(i int) (by int, fallback bool) {
	v := m.For(i)
	if !v.NoneUp() {
		return i, false
	}
	for _, f := range v.ep.cfg.FallbackIndexes {
		if f >= 0 && f < len(m.names) && !m.For(f).NoneUp() {
			return f, true
		}
	}
	return i, false
}

// Gen changes whenever an address goes up or down: answers built under
// another generation must not be served.
func (m *Monitor) Gen() uint64 {
	if m == nil {
		return 0
	}
	return m.gen.Load()
}

// View is what answers need to know of one endpoint's health.
type View struct {
	ep *endpoint
}

// For is endpoint i's view; its zero value (health off) lets everything through.
func (m *Monitor) For(i int) View {
	if m == nil || i < 0 || i >= len(m.endpoints) {
		return View{}
	}
	return View{m.endpoints[i]}
}

// On reports whether the endpoint is probed.
func (v View) On() bool { return v.ep != nil }

// Down reports whether a is known to be down. Addresses not probed yet are up.
func (v View) Down(a netip.Addr) bool {
	if v.ep == nil {
		return false
	}
	v.ep.mu.Lock()
	defer v.ep.mu.Unlock()
	s, ok := v.ep.addrs[a.Unmap()]
	return ok && !s.up
}

// NoneUp reports whether the endpoint has addresses and every one is down.
func (v View) NoneUp() bool {
	if v.ep == nil {
		return false
	}
	v.ep.mu.Lock()
	defer v.ep.mu.Unlock()
	if len(v.ep.addrs) == 0 {
		return false
	}
	for _, s := range v.ep.addrs {
		if s.up {
			return false
		}
	}
	return true
}

// Status is one endpoint's health, for /status and `s3dns status`.
type Status struct {
	Endpoint  string          `json:"endpoint"`
	Service   string          `json:"service"`
	Region    string          `json:"region"`
	Hostname  string          `json:"hostname,omitempty"`
	Port      int             `json:"port"`
	Probed    bool            `json:"probed"`
	Addresses []AddressStatus `json:"addresses"`
	// AnsweredBy is the fallback endpoint answering this one's names while
	// every address of it is down; empty while it answers them itself.
	AnsweredBy string `json:"answered_by,omitempty"`
}

// AddressStatus is one address's state.
type AddressStatus struct {
	Address    string    `json:"address"`
	Up         bool      `json:"up"`
	LastChange time.Time `json:"last_change"`
	LastError  string    `json:"last_error,omitempty"`
}

// Status lists every probed endpoint and its addresses, in order.
func (m *Monitor) Status() []Status {
	if m == nil {
		return []Status{}
	}
	out := []Status{}
	for _, ep := range m.endpoints {
		if ep == nil {
			continue
		}
		st := Status{Endpoint: ep.label, Service: ep.cfg.Service, Region: ep.cfg.Region, Hostname: ep.cfg.Hostname,
			Port: ep.cfg.Health.Port, Addresses: []AddressStatus{}}
		ep.mu.Lock()
		st.Probed = ep.probed
		for a, s := range ep.addrs {
			st.Addresses = append(st.Addresses, AddressStatus{Address: a.String(), Up: s.up, LastChange: s.lastChange, LastError: s.lastError})
		}
		ep.mu.Unlock()
		slices.SortFunc(st.Addresses, func(a, b AddressStatus) int {
			return netip.MustParseAddr(a.Address).Compare(netip.MustParseAddr(b.Address))
		})
		if by, fallback := m.Answering(ep.index); fallback {
			st.AnsweredBy = m.names[by]
		}
		out = append(out, st)
	}
	return out
}
