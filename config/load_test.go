package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
	"github.com/spf13/pflag"
)

// writeConfig writes a YAML file into a temporary directory and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, yaml string, args ...string) (*model.Config, []string, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	opts := Options{Flags: fs, SearchPaths: []string{}, ResolvConf: writeResolvConf(t, "nameserver 127.0.0.53\n")}
	if yaml != "" {
		opts.File = writeConfig(t, yaml)
	}
	return Load(opts)
}

func writeResolvConf(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsWithoutFile(t *testing.T) {
	cfg, warnings, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if got := strings.Join(cfg.Listen, ","); got != "127.0.0.1:5353" {
		t.Errorf("listen = %s", got)
	}
	if cfg.HTTPListen != "127.0.0.1:9153" || cfg.UpstreamTimeout != 2*time.Second {
		t.Errorf("http_listen %q upstream_timeout %v", cfg.HTTPListen, cfg.UpstreamTimeout)
	}
	if got := strings.Join(cfg.Upstreams, ","); got != "127.0.0.53:53" {
		t.Errorf("upstreams from resolv.conf = %s", got)
	}
	want := model.Cache{MaxEntries: 100000, MaxTTL: 24 * time.Hour, NegativeMaxTTL: 5 * time.Minute,
		StaleAnswerTimeout: 1800 * time.Millisecond, StaleRecheck: 30 * time.Second}
	if cfg.Cache != want {
		t.Errorf("cache = %+v, want %+v", cfg.Cache, want)
	}
	if len(cfg.Access.Allow) != 6 || cfg.Access.Allow[0] != netip.MustParsePrefix("127.0.0.0/8") || cfg.Access.TCPPerClient != 32 {
		t.Errorf("allow = %v", cfg.Access.Allow)
	}
	if cfg.Log.Format != "text" || cfg.Log.Queries || len(cfg.Endpoints) != 0 {
		t.Errorf("log %+v endpoints %v", cfg.Log, cfg.Endpoints)
	}
}

const fullConfig = `
listen: ["127.0.0.1:5353", "[::1]:5353"]
http_listen: ""
upstreams: ["127.0.0.1", "127.0.0.2:5300", "::1"]
upstream_timeout: 1
cache:
  max_entries: 10
  max_ttl: 1h
  negative_max_ttl: 30
  serve_stale: 10m
  stale_answer_timeout: 500ms
  stale_recheck: 1m
access:
  allow: ["127.0.0.1", "10.0.0.0/8"]
  rate_limit_qps: 50
  tcp_per_client: 4
log: {level: debug, format: json, queries: true}
endpoints:
  - region: eu-west-2
    hostname: VPCE-1.s3.eu-west-2.vpce.amazonaws.com.
    addresses: ["10.0.0.1", "fd00::1"]
    buckets: ["MyBucket", "logs-*", "*"]
    path_style: true
    access_points: ["ap-123456789012"]
    control: true
    dualstack: true
    answer: alias
    on_unresolved: servfail
    ttl: 30
`

func TestFullFile(t *testing.T) {
	cfg, _, err := load(t, fullConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Upstreams, ","); got != "127.0.0.1:53,127.0.0.2:5300,[::1]:53" {
		t.Errorf("upstreams = %s", got)
	}
	if cfg.UpstreamTimeout != time.Second || cfg.Cache.NegativeMaxTTL != 30*time.Second || cfg.Cache.ServeStale != 10*time.Minute {
		t.Errorf("durations: %v %+v", cfg.UpstreamTimeout, cfg.Cache)
	}
	if cfg.Cache.StaleAnswerTimeout != 500*time.Millisecond || cfg.Cache.StaleRecheck != time.Minute {
		t.Errorf("stale timers: %+v", cfg.Cache)
	}
	if cfg.HTTPListen != "" || cfg.Access.RateLimitQPS != 50 || cfg.Access.Allow[0].String() != "127.0.0.1/32" || cfg.Access.TCPPerClient != 4 {
		t.Errorf("http %q access %+v", cfg.HTTPListen, cfg.Access)
	}
	e := cfg.Endpoints[0]
	if e.Hostname != "vpce-1.s3.eu-west-2.vpce.amazonaws.com." {
		t.Errorf("hostname = %q", e.Hostname)
	}
	if strings.Join(e.Buckets, ",") != "mybucket,logs-*,*" || e.TTL != 30*time.Second || e.Answer != "alias" || e.OnUnresolved != "servfail" {
		t.Errorf("endpoint = %+v", e)
	}
	if !e.PathStyle || !e.Control || !e.Dualstack || len(e.Addresses) != 2 || len(e.AddressesOf(true)) != 1 {
		t.Errorf("endpoint flags = %+v", e)
	}
}

func TestPrecedenceFlagsOverEnvOverFile(t *testing.T) {
	file := "listen: [\"127.0.0.1:1001\"]\nupstreams: [\"127.0.0.1:1\"]\nlog: {level: error}\ncache: {max_entries: 5}\n"
	t.Setenv("S3DNS_LISTEN", "127.0.0.1:1002,127.0.0.1:1003")
	t.Setenv("S3DNS_LOG_LEVEL", "warn")
	t.Setenv("S3DNS_CACHE_MAX_ENTRIES", "7")
	t.Setenv("S3DNS_ACCESS_TCP_PER_CLIENT", "3")
	t.Setenv("S3DNS_CACHE_STALE_RECHECK", "45s")
	t.Setenv("S3DNS_DNSTAP_FILE", "/var/log/s3dns.dnstap")
	t.Setenv("S3DNS_TCP_IDLE_TIMEOUT", "20s")
	t.Setenv("S3DNS_TCP_MAX_QUEUED", "8")
	cfg, _, err := load(t, file, "--listen", "127.0.0.1:1004", "--cache-max-entries", "9", "--tcp-per-client", "5",
		"--cache-stale-answer-timeout", "1s", "--tcp-write-timeout", "2s", "--tcp-idle-timeout", "3s")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Listen, ","); got != "127.0.0.1:1004" {
		t.Errorf("flag should win: listen = %s", got)
	}
	if cfg.Cache.MaxEntries != 9 || cfg.Access.TCPPerClient != 5 || cfg.Cache.StaleAnswerTimeout != time.Second {
		t.Errorf("flag should win: max_entries = %d, tcp_per_client = %d, stale_answer_timeout = %v",
			cfg.Cache.MaxEntries, cfg.Access.TCPPerClient, cfg.Cache.StaleAnswerTimeout)
	}
	if cfg.TCP != (model.TCP{IdleTimeout: 3 * time.Second, WriteTimeout: 2 * time.Second, MaxQueued: 8}) {
		t.Errorf("tcp from flags and environment: %+v", cfg.TCP)
	}
	if cfg.Cache.StaleRecheck != 45*time.Second {
		t.Errorf("env should set stale_recheck: %v", cfg.Cache.StaleRecheck)
	}
	if !cfg.Dnstap.On() || cfg.Dnstap.File != "/var/log/s3dns.dnstap" || len(cfg.Dnstap.Messages) != 4 {
		t.Errorf("dnstap from the environment: %+v", cfg.Dnstap)
	}
	if cfg.Log.Level.String() != "WARN" {
		t.Errorf("env should beat file: level = %v", cfg.Log.Level)
	}
	if got := strings.Join(cfg.Upstreams, ","); got != "127.0.0.1:1" {
		t.Errorf("file value kept: upstreams = %s", got)
	}

	cfg, _, err = load(t, file)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Listen, ","); got != "127.0.0.1:1002,127.0.0.1:1003" || cfg.Cache.MaxEntries != 7 || cfg.Access.TCPPerClient != 3 {
		t.Errorf("env should beat file: listen = %s, max_entries = %d, tcp_per_client = %d", got, cfg.Cache.MaxEntries, cfg.Access.TCPPerClient)
	}
}

func TestEndpointsWithoutFile(t *testing.T) {
	t.Setenv("S3DNS_ENDPOINTS", `[{region: eu-west-2, hostname: vpce-1.s3.eu-west-2.vpce.amazonaws.com, buckets: [a-bucket, "logs-*"]}]`)
	t.Setenv("S3DNS_UPSTREAMS", "127.0.0.1:53")
	cfg, _, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Endpoints) != 1 || strings.Join(cfg.Endpoints[0].Buckets, ",") != "a-bucket,logs-*" || cfg.Endpoints[0].TTL != time.Minute {
		t.Fatalf("endpoints from env = %+v", cfg.Endpoints)
	}
	cfg, _, err = load(t, "", "--endpoints", `[{"region":"us-east-1","addresses":["10.1.1.1"],"buckets":["*"]}]`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoints[0].Region != "us-east-1" || !cfg.Endpoints[0].ServesApex() {
		t.Fatalf("endpoints from flag = %+v", cfg.Endpoints)
	}
}

func TestMissingExplicitFile(t *testing.T) {
	_, _, err := Load(Options{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("err = %v", err)
	}
}

func TestSearchPathOrder(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(second, []byte("listen: [\"127.0.0.1:2\"]\n"), 0o600)
	opts := Options{SearchPaths: []string{first, second}, ResolvConf: writeResolvConf(t, "nameserver 127.0.0.1\n")}
	cfg, _, err := Load(opts)
	if err != nil || cfg.File != second || cfg.Listen[0] != "127.0.0.1:2" {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
	os.WriteFile(first, []byte("listen: [\"127.0.0.1:1\"]\n"), 0o600)
	cfg, _, err = Load(opts)
	if err != nil || cfg.File != first {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
}

func TestDottedBucketWarns(t *testing.T) {
	_, warnings, err := load(t, "upstreams: [127.0.0.1]\nendpoints: [{region: eu-west-2, hostname: vpce.example.com, buckets: [my.dotted.bucket]}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], `endpoints[0].buckets[0]: "my.dotted.bucket" contains a dot`) {
		t.Fatalf("warnings = %q", warnings)
	}
}

func TestOpenResolverWarning(t *testing.T) {
	cases := []struct {
		listen, allow string
		warn          bool
	}{
		{`["0.0.0.0:53"]`, `["0.0.0.0/0"]`, true},
		{`[":53"]`, `["::/0"]`, true},
		{`["203.0.113.5:53"]`, `["0.0.0.0/0", "10.0.0.0/8"]`, true},
		{`["10.1.2.3:53", "127.0.0.1:53"]`, `["0.0.0.0/0"]`, false},
		{`["0.0.0.0:53"]`, `["10.0.0.0/8"]`, false},
	}
	for _, tc := range cases {
		_, warnings, err := load(t, "upstreams: [127.0.0.1]\nlisten: "+tc.listen+"\naccess: {allow: "+tc.allow+"}\n")
		if err != nil {
			t.Fatal(err)
		}
		got := len(warnings) > 0 && strings.Contains(warnings[0], "OPEN RESOLVER")
		if got != tc.warn {
			t.Errorf("listen %s allow %s: warnings %q", tc.listen, tc.allow, warnings)
		}
	}
}

// Flags are typed: a value of the wrong kind is refused at parsing, with
// the flag named; a right one sets its key as the file would.
func TestTypedFlags(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	for flag, bad := range map[string]string{"cache-max-entries": "lots", "upstream-timeout": "soon", "log-queries": "maybe", "rate-limit-qps": "fast"} {
		if err := fs.Parse([]string{"--" + flag + "=" + bad}); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("--%s=%s: %v, want an error naming the flag", flag, bad, err)
		}
	}
	if typ := fs.Lookup("cache-max-entries").Value.Type(); typ != "int" {
		t.Errorf("--cache-max-entries is a %s in --help, want int", typ)
	}
	cfg, _, err := load(t, "", "--cache-max-entries", "7", "--upstream-timeout", "3", "--log-queries", "--rate-limit-qps", "2.5")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.MaxEntries != 7 || cfg.UpstreamTimeout != 3*time.Second || !cfg.Log.Queries || cfg.Access.RateLimitQPS != 2.5 {
		t.Errorf("max entries %d, timeout %v, queries %v, qps %v", cfg.Cache.MaxEntries, cfg.UpstreamTimeout, cfg.Log.Queries, cfg.Access.RateLimitQPS)
	}
}
