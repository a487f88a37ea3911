// Package daemon is the running server's lifecycle: it wires the packages
// together for a configuration (cache, endpoint answers, health, discovery,
// dnstap, metrics, HTTP), listens, reloads on SIGHUP, a file change or the
// admin path, and shuts down in order. Package app's serve command starts it.
package daemon

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/dnsserver"
	"github.com/s3dns/s3dns/endpoint"
	"github.com/s3dns/s3dns/health"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/ops"
	"github.com/s3dns/s3dns/tap"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/upstream"
	"github.com/s3dns/s3dns/wire"
)

// daemon is a running server and what it needs to reload its configuration.
type daemon struct {
	opts     config.Options // how to read the configuration again
	version  string
	log      *slog.Logger
	level    *slog.LevelVar
	metrics  *metrics.Metrics
	srv      *dnsserver.Server
	resolver atomic.Pointer[cache.Cache]
	fwd      *upstream.Forwarder     // the resolver's; guarded by mu after start-up
	certs    *transport.Certificates // the encrypted listeners'; nil without them

	ready *ops.Readiness

	mu  sync.Mutex // serialises reloads
	cfg *model.Config

	// background holds the goroutines the daemon starts (loop probes, the
	// file watcher); serve waits for them before it returns.
	background sync.WaitGroup
	// lifetime ends when serve stops; endpoint health probing lives as long.
	lifetime context.Context
	// tap is the dnstap output in use (none while off); a reload may replace it.
	tap tap.Switch
	// discovery fills in endpoints given by vpc_endpoint_id; nil without any.
	discovery       atomic.Pointer[discovering]
	discoveryErrors *prometheus.CounterVec
	// audits is the policy audit serve runs every audit.interval.
	audits auditing
	reg    *prometheus.Registry
}

// setTap opens the dnstap output cfg names (none when off) and puts it in
// use, closing the one it replaces in the background (it flushes first).
// A new output that cannot be opened leaves the running one in place.
func (d *daemon) setTap(cfg model.Dnstap) {
	var t *tap.Tap
	if cfg.On() {
		var err error
		if t, err = tap.New(cfg, d.version, tap.Options{OnDrop: d.metrics.DnstapDropped.Inc, Log: d.log}); err != nil {
			d.log.Error("dnstap output cannot be opened; keeping the previous one", "error", err)
			return
		}
	}
	if old := d.tap.Set(t); old != nil {
		d.background.Add(1)
		go func() { // it flushes first; shutdown waits for it
			defer d.background.Done()
			old.Close()
		}()
	}
}

// tapWantsForwarder reports whether a tap keeps FORWARDER messages now.
func (d *daemon) tapWantsForwarder() bool {
	t := d.tap.Current()
	return t != nil && t.WantsForwarder()
}

// tapForwarder is the forwarder's dnstap hook: FORWARDER_QUERY/RESPONSE.
// It packs the messages only while a tap wants them.
func (d *daemon) tapForwarder(tcp bool, local, upstream netip.AddrPort, q, resp *dns.Msg, asked, answered time.Time) {
	t := d.tap.Current()
	if t == nil || !t.WantsForwarder() {
		return
	}
	query, err := q.Pack()
	if err != nil {
		return
	}
	var reply []byte
	if resp != nil {
		reply, _ = resp.Pack()
	}
	p := tap.UDP
	if tcp {
		p = tap.TCP
	}
	t.Forwarder(p, local, upstream, query, reply, asked, answered)
}

// stateFor builds what queries are answered from for cfg, with a health
// monitor for the endpoints that have health set (taking over what
// previous knew of the same endpoints). The monitor is started by watch
// at start-up, and by reload.
func (d *daemon) stateFor(cfg *model.Config, resolver *cache.Cache, previous *health.Monitor) *dnsserver.State {
	monitor := health.New(cfg.Endpoints, endpoint.HealthResolver(resolver),
		health.Options{Log: d.log, Observer: d.metrics}, previous)
	return dnsserver.NewState(cfg, resolver, monitor, d.log)
}

const loopBlocker = "forwarding loop detected"

// checkLoop probes the upstreams for a forwarding loop in the background and
// holds readiness at 503 while one exists.
func (d *daemon) checkLoop(ctx context.Context) {
	st := d.srv.State()
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		if d.srv.ProbeForLoop(ctx, st) {
			d.ready.Block(loopBlocker)
			d.log.Error("forwarding loop detected: a query s3dns sent to its upstreams came back to it. "+
				"An on-prem resolver forwards S3 names to s3dns and s3dns forwards them back to that resolver. "+
				"Point upstreams at resolvers that resolve S3 names themselves; /readyz stays 503 until a reload fixes it",
				"upstreams", st.Config.Upstreams)
			return
		}
		d.ready.Unblock(loopBlocker)
	}()
}

// resolverFor builds the forwarder and cache for cfg.
func (d *daemon) resolverFor(cfg *model.Config) *cache.Cache {
	var roots *x509.CertPool
	if cfg.TLS.UpstreamCAFile != "" {
		roots, _ = config.LoadCAs(cfg.TLS.UpstreamCAFile) // validated with the configuration
	}
	fwd := upstream.New(cfg.Upstreams, cfg.UpstreamTimeout, upstream.WithRoots(roots),
		upstream.WithLogger(d.log), upstream.WithObserver(d.metrics.ObserveUpstream), upstream.WithTap(d.tapForwarder, d.tapWantsForwarder))
	d.fwd = fwd
	c := cache.New(cache.Config{
		MaxEntries:         cfg.Cache.MaxEntries,
		MaxTTL:             cfg.Cache.MaxTTL,
		NegativeMaxTTL:     cfg.Cache.NegativeMaxTTL,
		ServeStale:         cfg.Cache.ServeStale,
		StaleAnswerTimeout: cfg.Cache.StaleAnswerTimeout,
		StaleRecheck:       cfg.Cache.StaleRecheck,
	}, fwd)
	// The counters are looked up once: hits are counted on the fast path.
	hit := d.metrics.CacheRequests.WithLabelValues("hit")
	miss := d.metrics.CacheRequests.WithLabelValues("miss")
	stale := d.metrics.CacheRequests.WithLabelValues("stale")
	c.OnLookup = func(s wire.Source) {
		switch s {
		case wire.FromCache:
			hit.Inc()
		case wire.FromStale:
			stale.Inc()
		default:
			miss.Inc()
		}
	}
	return c
}

func (d *daemon) cacheEntries() float64 {
	if c := d.resolver.Load(); c != nil {
		return float64(c.Len())
	}
	return 0
}

// reload reads the configuration again and swaps it in whole; a bad file
// leaves the running configuration untouched.
func (d *daemon) reload(reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lifetime == nil {
		// An admin reload before serve has finished starting.
		return errors.New("still starting: reload once /readyz answers 200")
	}
	cfg, warnings, err := config.Load(d.opts)
	for _, w := range warnings {
		d.log.Warn("configuration warning", "warning", w)
	}
	if err != nil {
		d.metrics.Reloads.WithLabelValues("failure").Inc()
		d.metrics.LastReloadOK.Set(0)
		d.log.Error("reload failed: the running configuration stays", "trigger", reason,
			"errors", config.Messages(err))
		return fmt.Errorf("reload failed, the running configuration stays: %s", strings.Join(config.Messages(err), "; "))
	}
	old := d.cfg
	d.reloadCertificate(reason)
	if !slices.Equal(cfg.ListenTLS, old.ListenTLS) || !slices.Equal(cfg.ListenHTTPS, old.ListenHTTPS) || !slices.Equal(cfg.ListenHTTP, old.ListenHTTP) {
		d.log.Warn("listen_tls, listen_https or listen_http changed: a restart is needed to apply it")
	}
	if !slices.Equal(cfg.Listen, old.Listen) || cfg.HTTPListen != old.HTTPListen {
		d.log.Warn("listen or http_listen changed: a restart is needed to apply it; still serving on the old addresses",
			"listen", old.Listen, "http_listen", old.HTTPListen)
	}
	if cfg.Log.Format != old.Log.Format {
		d.log.Warn("log.format changed: a restart is needed to apply it")
	}
	resolver := d.resolver.Load()
	changed := !sameResolver(cfg, old)
	oldFwd := d.fwd
	if changed {
		resolver = d.resolverFor(cfg)
		d.resolver.Store(resolver)
		d.log.Info("upstreams or cache settings changed: new upstream set, cache emptied")
	}
	d.level.Set(cfg.Log.Level)
	if !cfg.Dnstap.Equal(old.Dnstap) {
		d.setTap(cfg.Dnstap)
		d.log.Info("dnstap output changed", "on", cfg.Dnstap.On())
	}
	if cfg.Cache.MaxEntries != old.Cache.MaxEntries {
		setMemoryLimit(cfg, d.log)
	}
	d.startDiscovery(d.lifetime, cfg)
	d.swapState(cfg, resolver)
	defer d.wakeAudit() // the DNS split may have changed: audit it at once (once d.cfg is cfg)
	if changed {
		oldFwd.Close() // its idle sockets; queries still on it finish normally
		d.checkLoop(d.lifetime)
	}
	d.cfg = cfg
	d.metrics.Reloads.WithLabelValues("success").Inc()
	d.metrics.LastReloadOK.Set(1)
	d.log.Info("configuration reloaded", "trigger", reason, "endpoints", len(cfg.Endpoints), "upstreams", cfg.Upstreams)
	return nil
}

// reloadCertificate reads the TLS certificate files again; one that does
// not load, or has expired, leaves the one in use.
func (d *daemon) reloadCertificate(reason string) {
	if d.certs == nil {
		return
	}
	if err := d.certs.Reload(); err != nil {
		d.log.Error("TLS certificate not reloaded: the one in use stays", "trigger", reason, "error", err, "expires", d.certs.Expiry())
		return
	}
	d.log.Info("TLS certificate read", "trigger", reason, "expires", d.certs.Expiry())
}

// swapState puts cfg (with what discovery found) in use, handing endpoint
// health over to the new state. d.mu is held.
func (d *daemon) swapState(cfg *model.Config, resolver *cache.Cache) {
	d.metrics.StartAtZero(knownSeries(cfg), d.discoveryErrors)
	running := d.srv.State()
	st := d.stateFor(d.withDiscovered(cfg), resolver, running.Health)
	st.Health.Start(d.lifetime)
	d.srv.Swap(st)
	running.Health.Stop()
}

// sameResolver reports whether the upstream and cache settings are unchanged,
// so that the cache can be kept across a reload.
func sameResolver(a, b *model.Config) bool {
	return slices.Equal(a.Upstreams, b.Upstreams) && a.UpstreamTimeout == b.UpstreamTimeout && a.Cache == b.Cache &&
		a.TLS.UpstreamCAFile == b.TLS.UpstreamCAFile
}

// knownSeries names the labelled series cfg will produce, so that they are
// exported at 0 before their first event.
func knownSeries(cfg *model.Config) metrics.Known {
	k := metrics.Known{Upstreams: cfg.Upstreams}
	for _, e := range cfg.Endpoints {
		if e.Health != nil {
			k.Probed = append(k.Probed, e.Name)
		}
		if e.VPCEndpointID != "" {
			k.Discovered = append(k.Discovered, e.Name)
		}
	}
	for _, s := range cfg.Sites {
		k.Sites = append(k.Sites, s.Name)
	}
	return k
}

// admin is the running server's control through the HTTP admin paths.
func (d *daemon) admin(reg prometheus.Registerer) *ops.Admin {
	counted := metrics.RegisterAdmin(reg)
	return &ops.Admin{
		Allow:  d.cfg.HTTPAdminAllow,
		Flush:  func(name string) (int, error) { return d.srv.State().Flush(name) },
		Dump:   func() any { return d.srv.State().Dump() },
		Reload: func() error { return d.reload("admin") },
		Count:  func(action, result string) { counted.WithLabelValues(action, result).Inc() },
		Log:    d.log,
	}
}
