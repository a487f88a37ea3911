package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/dnsserver"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/ops"
	"github.com/s3dns/s3dns/transport"
)

// shutdownGrace bounds how long queries in flight may take at shutdown.
const shutdownGrace = 5 * time.Second

// Options are what the daemon needs besides the configuration.
type Options struct {
	// Load reads the configuration again on a reload (SIGHUP, the file
	// changing, s3dns reload), as it was read at start.
	Load    config.Options
	Version string    // in logs, metrics and dnstap
	Stderr  io.Writer // logs
	// Reload delivers a value per SIGHUP.
	Reload <-chan struct{}
}

// Serve runs the server for cfg until ctx ends (SIGINT or SIGTERM): listen,
// watch, answer reloads, shut down. It returns the process's exit code.
func Serve(ctx context.Context, cfg *model.Config, warnings []string, opts Options) int {
	d, reg := newDaemon(opts, cfg, warnings)
	httpSrv, err := d.listen(reg)
	if err != nil {
		d.log.Error("cannot listen", "error", err)
		return 1
	}
	watched, stop := context.WithCancel(ctx)
	d.watch(watched)
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-opts.Reload:
			d.reload("SIGHUP")
		}
	}
	stop()
	d.shutdown(httpSrv)
	return 0
}

// newDaemon sets up logging, metrics, the resolver and the DNS server for
// cfg, binding nothing yet.
func newDaemon(opts Options, cfg *model.Config, warnings []string) (*daemon, *prometheus.Registry) {
	level := new(slog.LevelVar)
	level.Set(cfg.Log.Level)
	log := newLogger(cfg.Log.Format, level, opts.Stderr)
	for _, w := range warnings {
		log.Warn("configuration warning", "warning", w)
	}
	setMemoryLimit(cfg, log)
	reg := prometheus.NewRegistry()
	d := &daemon{opts: opts.Load, version: opts.Version, log: log, level: level, cfg: cfg, ready: &ops.Readiness{}, reg: reg}
	d.audits.wake = make(chan struct{}, 1)
	d.metrics = metrics.New(reg, d.version, d.cacheEntries)
	metrics.RegisterReadiness(reg, func() bool { ok, _ := d.ready.Ready(); return ok },
		func() bool { return d.ready.Blocked(loopBlocker) })
	d.discoveryErrors = metrics.RegisterDiscovery(reg, d.discoveryAges, d.discoveryFromStateFile)
	d.metrics.StartAtZero(knownSeries(cfg), d.discoveryErrors)
	d.setTap(cfg.Dnstap)
	resolver := d.resolverFor(cfg)
	d.resolver.Store(resolver)
	d.srv = dnsserver.New(d.stateFor(cfg, resolver, nil), dnsserver.Options{Log: log, Metrics: d.metrics, Tap: &d.tap})
	return d, reg
}

// listenEncrypted binds the DoT and DoH listeners the configuration names,
// with its certificate.
func (d *daemon) listenEncrypted(reg *prometheus.Registry) error {
	c := d.cfg
	if len(c.ListenTLS)+len(c.ListenHTTPS)+len(c.ListenHTTP) == 0 {
		return nil
	}
	e := dnsserver.Encrypted{TLS: c.ListenTLS, HTTPS: c.ListenHTTPS, HTTP: c.ListenHTTP, TrustedProxies: c.HTTPSTrustedProxies}
	if c.Encrypted() {
		certs, err := transport.LoadCertificates(c.TLS)
		if err != nil {
			return err
		}
		d.certs, e.Certs = certs, certs
		metrics.RegisterCertificateExpiry(reg, certs.Expiry)
	}
	return d.srv.StartEncrypted(e)
}

// listen binds HTTP (when configured) and DNS, or nothing.
func (d *daemon) listen(reg *prometheus.Registry) (*ops.Server, error) {
	var httpSrv *ops.Server
	if d.cfg.HTTPListen != "" {
		var err error
		status := func() any { return d.srv.State().Health.Status() }
		sections := map[string]func() any{"discovery": func() any { return d.discoverySources() }, "audit": d.auditStatus}
		admin := d.admin(reg)
		if httpSrv, err = ops.Start(d.cfg.HTTPListen, ops.Handler(reg, d.ready, status, sections, admin), d.log); err != nil {
			return nil, err
		}
	}
	if err := d.srv.Start(d.cfg.Listen); err != nil {
		shutdownHTTP(httpSrv, d.log)
		return nil, err
	}
	if err := d.listenEncrypted(reg); err != nil {
		shutdownHTTP(httpSrv, d.log)
		return nil, err
	}
	logStart(d.log, d.version, d.cfg, d.srv.Addrs(), httpSrv)
	return httpSrv, nil
}

// watch starts the loop probes and the configuration file watcher, both
// ending with ctx.
func (d *daemon) watch(ctx context.Context) {
	// Under d.mu: the HTTP admin paths (a reload) answer from before this.
	d.mu.Lock()
	d.lifetime = ctx
	d.srv.State().Health.Start(ctx)
	d.startDiscovery(ctx, d.cfg)
	if run := d.discovery.Load(); run != nil && len(run.refresher.Found()) > 0 {
		// The state file's data: answer from it now, not once EC2 answers.
		d.swapState(d.cfg, d.resolver.Load())
	}
	// Ready only now: a query that readiness let through before gets the
	// state file's answers, not SERVFAIL.
	d.ready.Unblock("starting")
	file, read := d.cfg.File, d.cfg.FileDigest
	certFiles := []string{d.cfg.TLS.CertFile, d.cfg.TLS.KeyFile}
	d.mu.Unlock()
	d.checkLoop(ctx)
	d.startAudit(ctx)
	if d.certs != nil {
		// A renewed certificate (certbot, cert-manager) is taken as it is
		// written, as on SIGHUP.
		for _, f := range certFiles {
			d.watchFile(ctx, f, nil, "the TLS certificate", func() { d.reloadCertificate("file changed") })
		}
	}
	if file == "" {
		return
	}
	d.watchFile(ctx, file, read, "the configuration file", func() { d.reload("file changed") })
}

// watchFile calls changed when file changes from what was read (since;
// nil: from now), until ctx ends.
func (d *daemon) watchFile(ctx context.Context, file string, since []byte, what string, changed func()) {
	done, err := config.Watch(ctx, file, since, changed)
	if err != nil {
		d.log.Warn("cannot watch "+what+"; reload with SIGHUP", "file", file, "error", err)
		return
	}
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		<-done
	}()
}

// shutdown stops accepting, finishes what is in flight within the grace,
// and waits for every goroutine the daemon started.
func (d *daemon) shutdown(httpSrv *ops.Server) {
	d.ready.Block("shutting down")
	d.mu.Lock()
	lameduck := d.cfg.Shutdown.Lameduck
	d.mu.Unlock()
	if lameduck > 0 {
		// Lame duck: load balancers and anycast withdrawal see /readyz 503
		// while every query is still answered.
		d.log.Info("lame duck: /readyz answers 503; still answering queries until the listeners close", "lameduck", lameduck)
		time.Sleep(lameduck)
	}
	d.log.Info("shutting down: finishing queries in flight", "grace", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		d.log.Warn("shutdown did not finish cleanly", "error", err)
	}
	shutdownHTTP(httpSrv, d.log)
	d.srv.State().Health.Stop()
	if t := d.tap.Set(nil); t != nil {
		t.Close() // flushes what is buffered
	}
	d.background.Wait()
	d.mu.Lock()
	d.resolver.Load().Close()
	d.fwd.Close()
	d.mu.Unlock()
	d.log.Info("stopped")
}

func shutdownHTTP(s *ops.Server, log *slog.Logger) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		log.Warn("HTTP shutdown", "error", err)
	}
}

// logStart writes the one start-up line that says what is served.
func logStart(log *slog.Logger, version string, cfg *model.Config, dnsAddrs []string, httpSrv *ops.Server) {
	httpAddr := "off"
	if httpSrv != nil {
		httpAddr = httpSrv.Addr()
	}
	buckets := 0
	for _, e := range cfg.Endpoints {
		buckets += len(e.Buckets)
	}
	log.Info("s3dns serving", "version", version, "listen", dnsAddrs, "http", httpAddr,
		"upstreams", cfg.Upstreams, "endpoints", len(cfg.Endpoints), "bucket_patterns", buckets,
		"cache_entries", cfg.Cache.MaxEntries, "config", cfg.File)
}

func newLogger(format string, level slog.Leveler, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// setMemoryLimit gives the Go runtime a soft memory limit sized for the
// cache (about 140 bytes live per entry, measured by BenchmarkEntryMemory,
// and nothing there for the collector to scan), so that garbage from cache
// misses cannot double the resident size. An operator's GOMEMLIMIT wins.
const (
	memoryBase     = 32 << 20
	memoryPerEntry = 200
)

func setMemoryLimit(cfg *model.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(memoryBase) + int64(cfg.Cache.MaxEntries)*memoryPerEntry
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit set", "bytes", limit)
}
