package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// configFlag is one flag that sets a configuration key. Values are kept as
// text (lists as string slices) so that validation reports them like file
// values; the kind is checked at parsing and shown in --help.
type configFlag struct {
	name, key, usage string
	list             bool
}

// flagKinds are the kinds of the keys whose flags are not plain text.
var flagKinds = map[string]string{
	"upstream_timeout": "duration", "cache.max_entries": "int", "cache.max_ttl": "duration",
	"cache.negative_max_ttl": "duration", "cache.serve_stale": "duration", "cache.stale_answer_timeout": "duration",
	"cache.stale_recheck": "duration", "access.rate_limit_qps": "float", "access.tcp_per_client": "int",
	"tcp.idle_timeout": "duration", "tcp.write_timeout": "duration", "tcp.max_queued": "int", "log.queries": "bool",
	"discovery.interval": "duration", "audit.interval": "duration", "shutdown.lameduck": "duration",
}

// typedText is a flag value kept as text after its kind accepted it.
type typedText struct {
	kind, text string
}

func (v *typedText) String() string { return v.text }

// Type is what --help shows after the flag.
func (v *typedText) Type() string { return v.kind }

func (v *typedText) Set(s string) error {
	var err error
	switch v.kind {
	case "int":
		_, err = strconv.Atoi(s)
	case "float":
		_, err = strconv.ParseFloat(s, 64)
	case "bool":
		_, err = strconv.ParseBool(s)
	case "duration": // Go durations or plain seconds, as in the file
		if _, perr := strconv.ParseFloat(s, 64); perr != nil {
			_, err = time.ParseDuration(s)
		}
	}
	if err != nil {
		return fmt.Errorf("%q is not a %s", s, map[string]string{"int": "whole number", "float": "number",
			"bool": "boolean (true or false)", "duration": "duration (2s, 5m, or seconds)"}[v.kind])
	}
	v.text = s
	return nil
}

var configFlags = []configFlag{
	{"listen", "listen", "DNS listen addresses, UDP and TCP", true},
	{"listen-tls", "listen_tls", "DNS over TLS listen addresses (RFC 7858)", true},
	{"listen-https", "listen_https", "DNS over HTTPS listen addresses (RFC 8484, /dns-query)", true},
	{"listen-http", "listen_http", "cleartext DNS over HTTP listen addresses, for a TLS-terminating proxy", true},
	{"https-trusted-proxies", "https_trusted_proxies", "proxies whose X-Forwarded-For or Forwarded names the DoH client", true},
	{"tls-cert-file", "tls.cert_file", "PEM certificate chain of the TLS and HTTPS listeners", false},
	{"tls-key-file", "tls.key_file", "PEM private key of that certificate", false},
	{"tls-client-ca-file", "tls.client_ca_file", "PEM roots that client certificates are verified against", false},
	{"tls-require-client-cert", "tls.require_client_cert", "refuse TLS clients without a verified certificate", false},
	{"tls-upstream-ca-file", "tls.upstream_ca_file", "PEM roots that tls:// upstreams' certificates are verified against (default: the system's)", false},
	{"http-listen", "http_listen", `HTTP address for /metrics /healthz /readyz, "" for none`, false},
	{"http-admin-allow", "http_admin_allow", "clients the HTTP admin paths answer (cache flush and dump, reload)", true},
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
	{"log-queries", "log.queries", "log one line per query", false},
	{"dnstap-socket", "dnstap.socket", "send dnstap to a collector on this Unix socket", false},
	{"dnstap-tcp", "dnstap.tcp", "send dnstap to a collector at IP:port", false},
	{"dnstap-file", "dnstap.file", "write dnstap to this file", false},
	{"dnstap-identity", "dnstap.identity", "dnstap identity (default: the host name)", false},
	{"dnstap-version", "dnstap.version", "dnstap version string (default: s3dns and its version)", false},
	{"dnstap-messages", "dnstap.messages", "dnstap message kinds: client_query, client_response, forwarder_query, forwarder_response", true},
	{"endpoints", "endpoints", `endpoints as a YAML/JSON list, e.g. '[{region: eu-west-2, hostname: vpce-..., buckets: [mybucket]}]'`, false},
	{"aws-region", "aws.region", "default AWS region of discovery and of endpoints given by vpc_endpoint_id", false},
	{"aws-profile", "aws.profile", "AWS shared config profile for discovery", false},
	{"aws-endpoint-url", "aws.endpoint_url", "EC2 API URL for discovery (proxies, tests)", false},
	{"discovery-interval", "discovery.interval", "how often endpoints given by vpc_endpoint_id are looked up again", false},
	{"discovery-state-file", "discovery.state_file", "file keeping the last good discovery result across restarts", false},
	{"audit-interval", "audit.interval", "run s3dns audit inside serve this often (0: off)", false},
	{"shutdown-lameduck", "shutdown.lameduck", "on SIGTERM, keep answering this long with /readyz at 503 before the listeners close", false},
	{"sites", "sites", `sites as a YAML/JSON list, e.g. '[{name: dc, clients: [10.1.0.0/16], zone: eu-west-2a}]'`, false},
	{"sites-trust-ecs", "sites_trust_ecs", "resolvers whose EDNS Client Subnet decides a query's site", true},
}

// RegisterFlags adds --config and one flag per configuration key to fs.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (default ./s3dns.yaml, then /etc/s3dns/s3dns.yaml)")
	for _, f := range configFlags {
		usage := f.usage + " (" + f.key + ")"
		switch def := defaults[f.key]; {
		case f.list:
			list, _ := def.([]string)
			fs.StringSlice(f.name, list, usage)
		case flagKinds[f.key] != "":
			fs.Var(&typedText{kind: flagKinds[f.key], text: fmt.Sprint(def)}, f.name, usage)
			if flagKinds[f.key] == "bool" {
				fs.Lookup(f.name).NoOptDefVal = "true" // --log-queries alone means true
			}
		default:
			fs.String(f.name, defaultText(def), usage)
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

// defaultText is a text key's default as --help shows it ("" shows none).
func defaultText(def any) string {
	if s, ok := def.(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}
