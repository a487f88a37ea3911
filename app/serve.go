package app

import (
	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/daemon"
)

// serve runs the server until SIGINT or SIGTERM (package daemon).
func serve(fs *pflag.FlagSet, io IO) int {
	cfg, warnings, ok := loadQuietly(fs, io)
	if !ok {
		return 1
	}
	load := config.Options{File: cfg.File, Flags: fs}
	if cfg.File == "" {
		load.SearchPaths = []string{} // started without a file: a reload finds none either
	}
	return daemon.Serve(io.Ctx, cfg, warnings, daemon.Options{Load: load, Version: BuildVersion(), Stderr: io.Stderr, Reload: io.Reload})
}
