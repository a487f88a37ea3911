package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/dnsserver"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/ops"
)

// shutdownGrace bounds how long queries in flight may take at shutdown.
const shutdownGrace = 5 * time.Second

func serve(fs *pflag.FlagSet, io IO) int {
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "s3dns serve: unexpected arguments %v\n", fs.Args())
		return 2
	}
	cfg, warnings, ok := loadQuietly(fs, io)
	if !ok {
		return 1
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Log.Level)
	log := newLogger(cfg.Log.Format, level, io.Stderr)
	for _, w := range warnings {
		log.Warn("configuration warning", "warning", w)
	}
	setMemoryLimit(cfg, log)
	reg := prometheus.NewRegistry()
	d := &daemon{opts: config.Options{File: cfg.File, Flags: fs}, log: log, level: level, cfg: cfg}
	if cfg.File == "" {
		d.opts.SearchPaths = []string{}
	}
	d.metrics = metrics.New(reg, BuildVersion(), d.cacheEntries)
	resolver := d.resolverFor(cfg)
	d.resolver.Store(resolver)
	d.srv = dnsserver.New(dnsserver.NewState(cfg, resolver, dnsserver.PackedOf(resolver)), dnsserver.Options{Log: log, Metrics: d.metrics})

	var ready ops.Readiness
	var httpSrv *ops.Server
	if cfg.HTTPListen != "" {
		var err error
		if httpSrv, err = ops.Start(cfg.HTTPListen, ops.Handler(reg, &ready), log); err != nil {
			log.Error("cannot listen", "error", err)
			return 1
		}
	}
	if err := d.srv.Start(cfg.Listen); err != nil {
		log.Error("cannot listen", "error", err)
		shutdownHTTP(httpSrv, log)
		return 1
	}
	ready.Unblock("starting")
	logStart(log, cfg, d.srv.Addrs(), httpSrv)

	ctx, stopWatching := context.WithCancel(io.Ctx)
	defer stopWatching()
	d.ready = &ready
	d.checkLoop(ctx)
	if cfg.File != "" {
		if err := config.Watch(ctx, cfg.File, func() { d.reload(ctx, "file changed") }); err != nil {
			log.Warn("cannot watch the configuration file; reload with SIGHUP", "file", cfg.File, "error", err)
		}
	}
	for running := true; running; {
		select {
		case <-io.Ctx.Done():
			running = false
		case <-io.Reload:
			d.reload(ctx, "SIGHUP")
		}
	}

	ready.Block("shutting down")
	log.Info("shutting down: finishing queries in flight", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := d.srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown did not finish cleanly", "error", err)
	}
	shutdownHTTP(httpSrv, log)
	d.mu.Lock()
	d.fwd.Close()
	d.mu.Unlock()
	log.Info("stopped")
	return 0
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
func logStart(log *slog.Logger, cfg *config.Config, dnsAddrs []string, httpSrv *ops.Server) {
	httpAddr := "off"
	if httpSrv != nil {
		httpAddr = httpSrv.Addr()
	}
	buckets := 0
	for _, e := range cfg.Endpoints {
		buckets += len(e.Buckets)
	}
	log.Info("s3dns serving", "version", BuildVersion(), "listen", dnsAddrs, "http", httpAddr,
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
// cache (about 225 bytes live per entry, measured by BenchmarkEntryMemory),
// so that garbage from cache misses cannot double the resident size. An
// operator's GOMEMLIMIT wins.
func setMemoryLimit(cfg *config.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(64<<20) + int64(cfg.Cache.MaxEntries)*320
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit set", "bytes", limit)
}
