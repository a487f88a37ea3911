package config

import (
	"github.com/spf13/pflag"
)

// configFlag is one flag that sets a configuration key. Values are kept as
// text (lists as string slices) so that validation reports them like file values.
type configFlag struct {
	name, key, usage string
	list             bool
}

var configFlags = []configFlag{
	{"listen", "listen", "DNS listen addresses, UDP and TCP", true},
	{"http-listen", "http_listen", `HTTP address for /metrics /healthz /readyz, "" for none`, false},
	{"upstream", "upstreams", "upstream resolvers, IP or IP:port", true},
	{"upstream-timeout", "upstream_timeout", "timeout per upstream attempt", false},
	{"cache-max-entries", "cache.max_entries", "cache size, 0 turns the cache off", false},
	{"cache-max-ttl", "cache.max_ttl", "cap on cached TTLs", false},
	{"cache-negative-max-ttl", "cache.negative_max_ttl", "cap on NXDOMAIN/NODATA caching", false},
	{"cache-serve-stale", "cache.serve_stale", "answer expired records this long when upstreams fail", false},
	{"cache-stale-answer-timeout", "cache.stale_answer_timeout", "with stale data at hand, answer stale after this long without an upstream reply", false},
	{"cache-stale-recheck", "cache.stale_recheck", "after a failed refresh, answer stale at once this long without asking again", false},
	{"allow", "access.allow", "client networks allowed to query", true},
	{"rate-limit-qps", "access.rate_limit_qps", "queries per second per client, 0 = off", false},
	{"tcp-per-client", "access.tcp_per_client", "concurrent TCP connections per client address", false},
	{"tcp-idle-timeout", "tcp.idle_timeout", "close a TCP connection idle this long (also told in edns-tcp-keepalive)", false},
	{"tcp-write-timeout", "tcp.write_timeout", "close a TCP connection whose client takes no reply for this long", false},
	{"tcp-max-queued", "tcp.max_queued", "close a TCP connection once this many replies wait to be written", false},
	{"log-level", "log.level", "debug | info | warn | error", false},
	{"log-format", "log.format", "text | json", false},
	{"log-queries", "log.queries", "log one line per query: true | false", false},
	{"dnstap-socket", "dnstap.socket", "send dnstap to a collector on this Unix socket", false},
	{"dnstap-tcp", "dnstap.tcp", "send dnstap to a collector at IP:port", false},
	{"dnstap-file", "dnstap.file", "write dnstap to this file", false},
	{"dnstap-identity", "dnstap.identity", "dnstap identity (default: the host name)", false},
	{"dnstap-version", "dnstap.version", "dnstap version string (default: s3dns and its version)", false},
	{"dnstap-messages", "dnstap.messages", "dnstap message kinds: client_query, client_response, forwarder_query, forwarder_response", true},
	{"endpoints", "endpoints", `endpoints as a YAML/JSON list, e.g. '[{region: eu-west-2, hostname: vpce-..., buckets: [mybucket]}]'`, false},
}

// RegisterFlags adds --config and one flag per configuration key to fs.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (default ./s3dns.yaml, then /etc/s3dns/s3dns.yaml)")
	for _, f := range configFlags {
		usage := f.usage + " (" + f.key + ")"
		if f.list {
			fs.StringSlice(f.name, nil, usage)
		} else {
			fs.String(f.name, "", usage)
		}
	}
}

// flagKey is the configuration key a flag sets, "" for other flags.
func flagKey(name string) string {
	for _, f := range configFlags {
		if f.name == name {
			return f.key
		}
	}
	return ""
}
