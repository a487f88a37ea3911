package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/dnsserver"
	"github.com/s3dns/s3dns/upstream"
)

// shutdownGrace bounds how long queries in flight may take at shutdown.
const shutdownGrace = 5 * time.Second

func serve(fs *pflag.FlagSet, io IO) int {
	if fs.NArg() > 0 {
		io.Stderr.Write([]byte("s3dns serve: unexpected arguments\n"))
		return 2
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	log := newLogger(cfg.Log, io.Stderr)
	fwd := upstream.New(cfg.Upstreams, cfg.UpstreamTimeout, upstream.WithLogger(log))
	resolver := cache.New(cache.Config{
		MaxEntries:     cfg.Cache.MaxEntries,
		MaxTTL:         cfg.Cache.MaxTTL,
		NegativeMaxTTL: cfg.Cache.NegativeMaxTTL,
		ServeStale:     cfg.Cache.ServeStale,
	}, fwd)
	srv := dnsserver.New(dnsserver.NewState(cfg, resolver), log)
	if err := srv.Start(cfg.Listen); err != nil {
		log.Error("cannot listen", "error", err)
		return 1
	}
	log.Info("s3dns serving", "version", BuildVersion(), "listen", srv.Addrs(), "upstreams", cfg.Upstreams,
		"endpoints", len(cfg.Endpoints), "config", cfg.File)

	<-io.Ctx.Done()
	log.Info("shutting down: finishing queries in flight", "grace", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("shutdown did not finish cleanly", "error", err)
	}
	log.Info("stopped")
	return 0
}

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
