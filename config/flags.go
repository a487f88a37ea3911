package config

import (
	"github.com/spf13/pflag"
)

// flagKeys maps each configuration flag to the key it sets.
var flagKeys = map[string]string{
	"listen":                 "listen",
	"http-listen":            "http_listen",
	"upstream":               "upstreams",
	"upstream-timeout":       "upstream_timeout",
	"cache-max-entries":      "cache.max_entries",
	"cache-max-ttl":          "cache.max_ttl",
	"cache-negative-max-ttl": "cache.negative_max_ttl",
	"cache-serve-stale":      "cache.serve_stale",
	"allow":                  "access.allow",
	"rate-limit-qps":         "access.rate_limit_qps",
	"log-level":              "log.level",
	"log-format":             "log.format",
	"log-queries":            "log.queries",
	"endpoints":              "endpoints",
}

// RegisterFlags adds --config and one flag per configuration key to fs.
// Values are kept as text so that validation reports them like file values.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (default ./s3dns.yaml, then /etc/s3dns/s3dns.yaml)")
	fs.StringSlice("listen", nil, "DNS listen addresses, UDP and TCP (listen)")
	fs.String("http-listen", "", `HTTP address for /metrics /healthz /readyz, "" for none (http_listen)`)
	fs.StringSlice("upstream", nil, "upstream resolvers, host or host:port (upstreams)")
	fs.String("upstream-timeout", "", "timeout per upstream attempt (upstream_timeout)")
	fs.String("cache-max-entries", "", "cache size, 0 turns the cache off (cache.max_entries)")
	fs.String("cache-max-ttl", "", "cap on cached TTLs (cache.max_ttl)")
	fs.String("cache-negative-max-ttl", "", "cap on NXDOMAIN/NODATA caching (cache.negative_max_ttl)")
	fs.String("cache-serve-stale", "", "answer expired records this long when upstreams fail (cache.serve_stale)")
	fs.StringSlice("allow", nil, "client networks allowed to query (access.allow)")
	fs.String("rate-limit-qps", "", "queries per second per client, 0 = off (access.rate_limit_qps)")
	fs.String("log-level", "", "debug | info | warn | error (log.level)")
	fs.String("log-format", "", "text | json (log.format)")
	fs.String("log-queries", "", "log one line per query: true | false (log.queries)")
	fs.String("endpoints", "", `endpoints as a YAML/JSON list, e.g. '[{region: eu-west-2, hostname: vpce-..., buckets: [mybucket]}]'`)
}
