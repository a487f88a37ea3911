package app

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/onprem"
)

// export prints the on-prem side of the configuration.
func export(fs *pflag.FlagSet, io IO) int {
	format, _ := fs.GetString("format")
	serverFlags, _ := fs.GetStringArray("server")
	perBucket, _ := fs.GetBool("per-bucket")
	switch format {
	case "bind", "unbound", "windows", "rpz", "bucket-policy", "endpoint-policy":
	default:
		fmt.Fprintf(io.Stderr, "s3dns export: --format must be bind, unbound, windows, rpz, bucket-policy or endpoint-policy, not %q\n", format)
		return 2
	}
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	if len(cfg.Endpoints) == 0 {
		// An export without endpoints forwards nothing to s3dns: loaded into
		// a resolver, every listed bucket would resolve publicly.
		source := cfg.File
		if source == "" {
			source = config.NoFile() + ": the built-in defaults"
		}
		fmt.Fprintf(io.Stderr, "s3dns export: %s lists no endpoints, so there is nothing to forward to s3dns "+
			"(give --config FILE, or endpoints through S3DNS_ENDPOINTS or --endpoints)\n", source)
		return 1
	}
	if strings.HasSuffix(format, "-policy") {
		return exportPolicy(fs, io, format, cfg)
	}
	if name, _ := fs.GetString("site"); name != "" {
		if cfg, ok = forSite(cfg, name, io); !ok {
			return 2
		}
	}
	if format == "rpz" {
		onprem.WriteRPZ(io.Stdout, cfg)
		return 0
	}
	servers, err := onprem.ParseServers(serverFlags)
	if err == nil && len(servers) == 0 {
		var srv onprem.Server
		srv, err = onprem.DefaultServer(cfg)
		servers = []onprem.Server{srv}
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "s3dns export: %v\n", err)
		return 2
	}
	if name, _ := fs.GetString("tls-name"); name != "" {
		ca, _ := fs.GetString("tls-ca")
		servers = onprem.OverTLS(servers, name, ca)
	}
	switch format {
	case "bind":
		onprem.WriteBIND(io.Stdout, cfg, servers, perBucket)
	case "unbound":
		onprem.WriteUnbound(io.Stdout, cfg, servers, perBucket)
		if len(cfg.Sites) > 0 {
			fmt.Fprintf(io.Stderr, "s3dns export: with sites, merge subnetcache into Unbound's module-config by hand "+
				"(the output says how; e.g. %s)\n", onprem.SubnetcacheModules)
		}
	case "windows":
		onprem.WriteWindows(io.Stdout, cfg, servers, perBucket)
	}
	return 0
}

// forSite is cfg as one site sees it, for a resolver (a BIND view) that
// serves that site alone: its endpoints, and no sites left to tell apart.
func forSite(cfg *model.Config, name string, io IO) (*model.Config, bool) {
	var names []string
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		if s.Name == name {
			out := *cfg
			out.Endpoints = cfg.EndpointsFor(s)
			out.Sites = nil
			if s.Public {
				fmt.Fprintf(io.Stdout, "# site %s is public: its resolvers forward nothing to s3dns.\n", s.Name)
			}
			return &out, true
		}
		names = append(names, s.Name)
	}
	fmt.Fprintf(io.Stderr, "s3dns export: --site %q is not a site (%s)\n", name, strings.Join(names, ", "))
	return nil, false
}
