package config

import "github.com/s3dns/s3dns/model"

// rawConfig mirrors the YAML layout. Durations and addresses stay strings here
// so that validation can name the key and the bad value in its own words.
type rawConfig struct {
	Listen          []string      `mapstructure:"listen"`
	ListenTLS       []string      `mapstructure:"listen_tls"`
	ListenHTTPS     []string      `mapstructure:"listen_https"`
	ListenHTTP      []string      `mapstructure:"listen_http"`
	TrustedProxies  []string      `mapstructure:"https_trusted_proxies"`
	TLS             rawTLS        `mapstructure:"tls"`
	HTTPListen      string        `mapstructure:"http_listen"`
	HTTPAdminAllow  []string      `mapstructure:"http_admin_allow"`
	Upstreams       []string      `mapstructure:"upstreams"`
	UpstreamTimeout string        `mapstructure:"upstream_timeout"`
	Cache           rawCache      `mapstructure:"cache"`
	Access          rawAccess     `mapstructure:"access"`
	TCP             rawTCP        `mapstructure:"tcp"`
	Log             rawLog        `mapstructure:"log"`
	Dnstap          rawDnstap     `mapstructure:"dnstap"`
	AWS             rawAWS        `mapstructure:"aws"`
	Discovery       rawDiscovery  `mapstructure:"discovery"`
	Audit           rawAudit      `mapstructure:"audit"`
	Shutdown        rawShutdown   `mapstructure:"shutdown"`
	Endpoints       []rawEndpoint `mapstructure:"endpoints"`
	Sites           []rawSite     `mapstructure:"sites"`
	SitesTrustECS   []string      `mapstructure:"sites_trust_ecs"`
}

type rawSite struct {
	Name        string            `mapstructure:"name"`
	Clients     []string          `mapstructure:"clients"`
	ClientNames []string          `mapstructure:"client_names"`
	Zone        string            `mapstructure:"zone"`
	Public      bool              `mapstructure:"public"`
	Endpoints   []rawSiteEndpoint `mapstructure:"endpoints"`
}

// rawSiteEndpoint overrides one endpoint for a site; a nil list or flag
// keeps the endpoint's own.
type rawSiteEndpoint struct {
	Name         string    `mapstructure:"name"`
	Buckets      *[]string `mapstructure:"buckets"`
	AccessPoints *[]string `mapstructure:"access_points"`
	Control      *bool     `mapstructure:"control"`
	Zone         string    `mapstructure:"zone"`
}

type rawTLS struct {
	CertFile          string `mapstructure:"cert_file"`
	KeyFile           string `mapstructure:"key_file"`
	ClientCAFile      string `mapstructure:"client_ca_file"`
	RequireClientCert bool   `mapstructure:"require_client_cert"`
	UpstreamCAFile    string `mapstructure:"upstream_ca_file"`
}

type rawAWS struct {
	Region      string `mapstructure:"region"`
	Profile     string `mapstructure:"profile"`
	EndpointURL string `mapstructure:"endpoint_url"`
}

type rawDiscovery struct {
	Interval  string `mapstructure:"interval"`
	StateFile string `mapstructure:"state_file"`
}

type rawAudit struct {
	Interval string `mapstructure:"interval"`
}

type rawShutdown struct {
	Lameduck string `mapstructure:"lameduck"`
}

type rawCache struct {
	MaxEntries     int    `mapstructure:"max_entries"`
	MaxTTL         string `mapstructure:"max_ttl"`
	NegativeMaxTTL string `mapstructure:"negative_max_ttl"`
	ServeStale     string `mapstructure:"serve_stale"`
	// RFC 8767 §5 timers.
	StaleAnswerTimeout string `mapstructure:"stale_answer_timeout"`
	StaleRecheck       string `mapstructure:"stale_recheck"`
}

type rawAccess struct {
	Allow        []string `mapstructure:"allow"`
	RateLimitQPS float64  `mapstructure:"rate_limit_qps"`
	TCPPerClient int      `mapstructure:"tcp_per_client"`
}

type rawTCP struct {
	IdleTimeout  string `mapstructure:"idle_timeout"`
	WriteTimeout string `mapstructure:"write_timeout"`
	MaxQueued    int    `mapstructure:"max_queued"`
}

type rawDnstap struct {
	Socket   string   `mapstructure:"socket"`
	TCP      string   `mapstructure:"tcp"`
	File     string   `mapstructure:"file"`
	Identity string   `mapstructure:"identity"`
	Version  string   `mapstructure:"version"`
	Messages []string `mapstructure:"messages"`
}

type rawLog struct {
	Level   string `mapstructure:"level"`
	Format  string `mapstructure:"format"`
	Queries bool   `mapstructure:"queries"`
}

type rawEndpoint struct {
	Name         string         `mapstructure:"name"`
	Region       string         `mapstructure:"region"`
	Service      string         `mapstructure:"service"`
	Names        []string       `mapstructure:"names"`
	Hostname     string         `mapstructure:"hostname"`
	Addresses    []string       `mapstructure:"addresses"`
	Buckets      []string       `mapstructure:"buckets"`
	PathStyle    bool           `mapstructure:"path_style"`
	AccessPoints []string       `mapstructure:"access_points"`
	MRAPs        []string       `mapstructure:"mraps"`
	Control      bool           `mapstructure:"control"`
	Dualstack    bool           `mapstructure:"dualstack"`
	Answer       string         `mapstructure:"answer"`
	OnUnresolved string         `mapstructure:"on_unresolved"`
	TTL          string         `mapstructure:"ttl"`
	Health       map[string]any `mapstructure:"health"`
	OnUnhealthy  string         `mapstructure:"on_unhealthy"`
	Fallback     []string       `mapstructure:"fallback"`
	// Discovery: the endpoint's id, and the zonal names it fills in.
	VPCEndpointID  string            `mapstructure:"vpc_endpoint_id"`
	ZonalHostnames map[string]string `mapstructure:"zonal_hostnames"`
}

// defaults holds every scalar key with its built-in value. Being listed here
// is also what makes a key known to viper's environment lookup.
var defaults = map[string]any{
	"listen":                     []string{"127.0.0.1:5353"},
	"http_listen":                "127.0.0.1:9153",
	"listen_tls":                 []string{},
	"listen_https":               []string{},
	"listen_http":                []string{},
	"https_trusted_proxies":      []string{},
	"tls.cert_file":              "",
	"tls.key_file":               "",
	"tls.client_ca_file":         "",
	"tls.require_client_cert":    false,
	"tls.upstream_ca_file":       "",
	"upstreams":                  []string{},
	"upstream_timeout":           "2s",
	"cache.max_entries":          100000,
	"cache.max_ttl":              "24h",
	"cache.negative_max_ttl":     "5m",
	"cache.serve_stale":          "0s",
	"cache.stale_answer_timeout": "1.8s",
	"cache.stale_recheck":        "30s",
	"http_admin_allow":           []string{"127.0.0.0/8", "::1/128"},
	"access.allow":               []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
	"access.rate_limit_qps":      0,
	"access.tcp_per_client":      32,
	"tcp.idle_timeout":           "10s",
	"tcp.write_timeout":          "5s",
	"tcp.max_queued":             64,
	"log.level":                  "info",
	"log.format":                 "text",
	"log.queries":                false,
	"dnstap.socket":              "",
	"dnstap.tcp":                 "",
	"dnstap.file":                "",
	"dnstap.identity":            "",
	"dnstap.version":             "",
	"dnstap.messages":            model.DnstapMessages,
	"aws.region":                 "",
	"aws.profile":                "",
	"aws.endpoint_url":           "",
	"discovery.interval":         "5m",
	"discovery.state_file":       "",
	"audit.interval":             "0s",
	"shutdown.lameduck":          "0s",
	"endpoints":                  []any{},
	"sites":                      []any{},
	"sites_trust_ecs":            []string{},
}

// endpointDefaults fill keys an endpoint entry leaves out.
var endpointDefaults = map[string]any{
	"name":            "",
	"region":          "",
	"service":         model.ServiceS3,
	"names":           []string{},
	"hostname":        "",
	"addresses":       []string{},
	"buckets":         []string{},
	"path_style":      false,
	"access_points":   []string{},
	"mraps":           []string{},
	"control":         false,
	"dualstack":       false,
	"answer":          model.AnswerCNAME,
	"on_unresolved":   model.UnresolvedCNAME,
	"ttl":             "60s",
	"health":          map[string]any{},
	"on_unhealthy":    model.UnhealthyKeep,
	"fallback":        []string{},
	"vpc_endpoint_id": "",
	"zonal_hostnames": map[string]any{},
}
