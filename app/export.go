package app

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/onprem"
)

// export prints the on-prem side of the configuration.
func export(fs *pflag.FlagSet, io IO) int {
	format, _ := fs.GetString("format")
	server, _ := fs.GetString("server")
	perBucket, _ := fs.GetBool("per-bucket")
	switch format {
	case "bind", "unbound", "windows", "rpz":
	default:
		fmt.Fprintf(io.Stderr, "s3dns export: --format must be bind, unbound, windows or rpz, not %q\n", format)
		return 2
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	if format == "rpz" {
		onprem.WriteRPZ(io.Stdout, cfg)
		return 0
	}
	var srv onprem.Server
	var err error
	if server != "" {
		srv, err = onprem.ParseServer(server)
	} else {
		srv, err = onprem.DefaultServer(cfg)
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "s3dns export: %v\n", err)
		return 2
	}
	switch format {
	case "bind":
		onprem.WriteBIND(io.Stdout, cfg, srv, perBucket)
	case "unbound":
		onprem.WriteUnbound(io.Stdout, cfg, srv, perBucket)
	case "windows":
		onprem.WriteWindows(io.Stdout, cfg, srv, perBucket)
	}
	return 0
}
