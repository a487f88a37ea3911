package dnsserver

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/endpoint"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/upstream"
	"github.com/s3dns/s3dns/wire"
)

const (
	vpce     = "vpce-0a1b.s3.eu-west-2.vpce.amazonaws.com."
	listed   = "myspecificbucket.s3.eu-west-2.amazonaws.com."
	unlisted = "otherbucket.s3.eu-west-2.amazonaws.com."
)

// publicZone is what the fake public DNS serves.
var publicZone = []string{
	vpce + " 60 IN A 10.1.0.10",
	vpce + " 60 IN A 10.1.0.11",
	vpce + " 60 IN AAAA fd00::10",
	unlisted + " 300 IN A 192.0.2.5",
	"myspecificbucket.s3-fips.eu-west-2.amazonaws.com. 300 IN A 192.0.2.6",
	listed + " 300 IN A 192.0.2.7", // the public answer a listed bucket must not get
}

// serverConfig is a test server's configuration, marshalled to YAML; empty
// fields take the defaults (upstreams: the test's fake ones).
type serverConfig struct {
	Listen          []string         `yaml:"listen,omitempty"`
	Upstreams       []string         `yaml:"upstreams,omitempty"`
	UpstreamTimeout string           `yaml:"upstream_timeout,omitempty"`
	Cache           map[string]any   `yaml:"cache,omitempty"`
	Access          map[string]any   `yaml:"access,omitempty"`
	TCP             map[string]any   `yaml:"tcp,omitempty"`
	Endpoints       []serverEndpoint `yaml:"endpoints,omitempty"`
	Sites           []map[string]any `yaml:"sites,omitempty"`
	SitesTrustECS   []string         `yaml:"sites_trust_ecs,omitempty"`
}

type serverEndpoint struct {
	Name           string            `yaml:"name,omitempty"`
	Service        string            `yaml:"service,omitempty"`
	MRAPs          []string          `yaml:"mraps,omitempty"`
	ZonalHostnames map[string]string `yaml:"zonal_hostnames,omitempty"`
	Region         string            `yaml:"region,omitempty"`
	Hostname       string            `yaml:"hostname,omitempty"`
	Addresses      []string          `yaml:"addresses,omitempty"`
	Buckets        []string          `yaml:"buckets,omitempty"`
	Answer         string            `yaml:"answer,omitempty"`
	OnUnresolved   string            `yaml:"on_unresolved,omitempty"`
	TTL            string            `yaml:"ttl,omitempty"`
	Health         map[string]any    `yaml:"health,omitempty"`
	OnUnhealthy    string            `yaml:"on_unhealthy,omitempty"`
	Fallback       []string          `yaml:"fallback,omitempty"`
}

// baseConfig serves the listed buckets of eu-west-2 through vpce.
func baseConfig() serverConfig {
	return serverConfig{Endpoints: []serverEndpoint{{Region: "eu-west-2", Hostname: vpce, Buckets: []string{"myspecificbucket", "logs-*"}}}}
}

// with returns a copy of c changed by change.
func (c serverConfig) with(change func(*serverConfig)) serverConfig {
	c.Endpoints = append([]serverEndpoint(nil), c.Endpoints...)
	change(&c)
	return c
}

type harness struct {
	srv     *Server
	addr    string
	up      *dnstest.Upstream
	clock   *dnstest.Clock
	wclock  *wire.Clock // the same, as the cache and endpoint answers read it
	cache   *cache.Cache
	metrics *metrics.Metrics
}

// start runs a server on 127.0.0.1:0 with sc (its upstreams set to one
// fake upstream serving publicZone) and a settable clock.
func start(t testing.TB, sc serverConfig) *harness {
	t.Helper()
	up := dnstest.NewUpstream(t, publicZone...)
	return startWith(t, sc, up)
}

func startWith(t testing.TB, sc serverConfig, ups ...*dnstest.Upstream) *harness {
	t.Helper()
	return startOpts(t, sc, Options{}, ups...)
}

// startOpts is startWith with server options (its metrics are always fresh).
func startOpts(t testing.TB, sc serverConfig, opts Options, ups ...*dnstest.Upstream) *harness {
	t.Helper()
	h := build(t, sc, opts, ups...)
	if err := h.srv.Start(h.srv.State().Config.Listen); err != nil {
		t.Fatal(err)
	}
	h.addr = h.srv.Addrs()[0]
	return h
}

// flow is a server for sc that listens nowhere: its flow tests hand it
// packets through a recorder.
func flow(t testing.TB, sc serverConfig, ups ...*dnstest.Upstream) *harness {
	t.Helper()
	if len(ups) == 0 {
		ups = []*dnstest.Upstream{dnstest.NewUpstream(t, publicZone...)}
	}
	return build(t, sc, Options{}, ups...)
}

// build makes the server, its state, cache and metrics for sc, not listening.
func build(t testing.TB, sc serverConfig, opts Options, ups ...*dnstest.Upstream) *harness {
	t.Helper()
	for _, u := range ups {
		sc.Upstreams = append(sc.Upstreams, u.Addr)
	}
	if sc.UpstreamTimeout == "" {
		sc.UpstreamTimeout = "300ms"
	}
	if sc.Listen == nil {
		sc.Listen = []string{"127.0.0.1:0"}
	}
	cfg := loadConfig(t, sc)
	clock := dnstest.NewClock()
	wclock := wire.NewClock(clock.Now)
	c := cache.New(cache.Config{
		MaxEntries: cfg.Cache.MaxEntries, MaxTTL: cfg.Cache.MaxTTL,
		NegativeMaxTTL: cfg.Cache.NegativeMaxTTL, ServeStale: cfg.Cache.ServeStale, Clock: wclock,
		StaleAnswerTimeout: cfg.Cache.StaleAnswerTimeout, StaleRecheck: cfg.Cache.StaleRecheck,
	}, upstream.New(cfg.Upstreams, cfg.UpstreamTimeout))
	m := metrics.New(prometheus.NewRegistry(), "test", func() float64 { return float64(c.Len()) })
	opts.Metrics = m
	monitor := health.New(cfg.Endpoints, endpoint.HealthResolver(c), health.Options{Observer: m}, nil)
	st := NewState(cfg, c, monitor, nil)
	st.Health.Start(context.Background())
	t.Cleanup(st.Health.Stop)
	srv := New(st, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		c.Close()
	})
	var up *dnstest.Upstream
	if len(ups) > 0 {
		up = ups[0]
	}
	return &harness{srv: srv, up: up, clock: clock, wclock: wclock, cache: c, metrics: m}
}

// stateFor is a State for cfg over the harness's cache, clock and health,
// as a reload builds one: no endpoint answer packed yet.
func (h *harness) stateFor(cfg *model.Config) *State {
	return NewState(cfg, h.cache, h.srv.State().Health, nil)
}

// loadConfig loads sc as s3dns would load it from a file.
func loadConfig(t testing.TB, sc serverConfig) *model.Config {
	t.Helper()
	text, err := yaml.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(file, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// ask sends m over network ("udp" or "tcp") and fails the test on error.
func (h *harness) ask(t testing.TB, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	resp, _, err := c.Exchange(m, h.addr)
	if err != nil {
		t.Fatalf("%s query for %s: %v", network, m.Question[0].Name, err)
	}
	return resp
}

func (h *harness) query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	return h.ask(t, "udp", question(name, qtype))
}

// fastReply runs the fast path (steps 1–3 of flow.go) for a UDP query from
// client; ok is false when the full path would answer it.
func fastReply(s *Server, st *State, pkt []byte, client netip.Addr, sc *scratch) ([]byte, bool) {
	q := sc.query(origin{proto: metrics.UDP, client: client})
	resp, done := s.serveFast(st, q, pkt, sc.out[:0], sc)
	return resp, done && resp != nil
}

func rrsOfType(rrs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}
