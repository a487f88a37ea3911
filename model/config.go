// Package model is what s3dns serves, as every other package sees it: the
// configuration's settings, the endpoints and the names they answer, the
// sites and their policies, the built-in table of endpoint services. It
// reads no file: package config makes a Config from the file, the
// environment and the flags, and validates it.
package model

import (
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// Answer modes of an endpoint.
const (
	AnswerCNAME = "cname" // N CNAME <hostname> plus the hostname's records, like a BIND RPZ
	AnswerAlias = "alias" // A/AAAA under N itself, like a Route 53 alias record
)

// What to do when an endpoint's addresses cannot be had.
const (
	UnresolvedCNAME    = "cname"    // the CNAME alone; the client's resolver chases it
	UnresolvedPublic   = "public"   // fail open: forward as if the name were not listed
	UnresolvedServfail = "servfail" // fail closed
)

// Config is the whole validated configuration of a running server.
type Config struct {
	Listen []string // host:port, UDP and TCP on each
	// ListenTLS serves DNS over TLS (RFC 7858), ListenHTTPS DNS over HTTPS
	// (RFC 8484) at /dns-query, both with TLS; ListenHTTP serves DoH in
	// clear text, for a TLS-terminating proxy in front.
	ListenTLS   []string
	ListenHTTPS []string
	ListenHTTP  []string
	// HTTPSTrustedProxies are the proxies whose X-Forwarded-For or
	// Forwarded header names the DoH client; anyone else's is ignored.
	HTTPSTrustedProxies []netip.Prefix
	TLS                 TLS
	HTTPListen          string // "" turns HTTP off
	// HTTPAdminAllow are the clients the admin paths (cache flush and dump,
	// reload) answer; loopback by default.
	HTTPAdminAllow  []netip.Prefix
	Upstreams       []string // host:port
	UpstreamTimeout time.Duration
	Cache           Cache
	Access          Access
	TCP             TCP
	Log             Log
	Dnstap          Dnstap
	AWS             AWS
	Discovery       Discovery
	Audit           Audit
	Shutdown        Shutdown
	Endpoints       []Endpoint
	// Sites give groups of clients their own policy; a client in none gets
	// the top-level one.
	Sites []Site
	// SitesTrustECS are the forwarders whose EDNS Client Subnet decides a
	// query's site (RFC 7871); anyone else's is ignored.
	SitesTrustECS []netip.Prefix

	// File is the configuration file that was read, "" when none was;
	// FileDigest is its content's digest as read, so that the file watcher
	// sees a change made before it started.
	File       string
	FileDigest []byte
}

// TLS names the certificate of the encrypted listeners and how clients'
// certificates are checked.
type TLS struct {
	CertFile, KeyFile string // PEM: the chain, and its key
	// ClientCAFile, when set, verifies client certificates against these
	// roots; RequireClientCert refuses handshakes without one.
	ClientCAFile      string
	RequireClientCert bool
	// UpstreamCAFile holds the roots DoT upstreams' certificates are
	// verified against ("": the system's).
	UpstreamCAFile string
}

// Encrypted reports whether any listener needs the certificate.
func (c *Config) Encrypted() bool { return len(c.ListenTLS)+len(c.ListenHTTPS) > 0 }

// Cache bounds the answer cache.
type Cache struct {
	MaxEntries     int
	MaxTTL         time.Duration
	NegativeMaxTTL time.Duration
	ServeStale     time.Duration
	// With stale data at hand, answer stale after this long without an
	// upstream reply (RFC 8767 client response timer).
	StaleAnswerTimeout time.Duration
	// After a failed refresh, answer stale at once for this long without
	// asking again (RFC 8767 failure recheck timer).
	StaleRecheck time.Duration
}

// Access says who may query and how often.
type Access struct {
	Allow        []netip.Prefix
	RateLimitQPS float64
	TCPPerClient int // concurrent TCP connections per client address
}

// TCP bounds what one TCP connection may hold (RFC 7766, RFC 9210).
type TCP struct {
	// IdleTimeout closes a connection with no query in flight after this
	// long without a new query; it is also what edns-tcp-keepalive tells.
	IdleTimeout time.Duration
	// WriteTimeout closes a connection whose client has not taken a reply
	// within this long.
	WriteTimeout time.Duration
	// MaxQueued closes a connection once this many replies wait to be written.
	MaxQueued int
}

// AWS says how discovery and s3dns discover reach the EC2 API; empty
// fields leave the SDK's standard chain (environment, shared config, SSO,
// IMDS, web identity) to decide.
type AWS struct {
	Region      string // default region of discover and of endpoints without one
	Profile     string // shared config profile
	EndpointURL string // EC2 API URL override
}

// Discovery says how often endpoints given by vpc_endpoint_id are looked up.
type Discovery struct {
	Interval time.Duration
	// StateFile keeps the last good discovery result across restarts ("":
	// none): read at start, written atomically after each good refresh.
	StateFile string
}

// Audit says how often serve runs the policy audit (0: never).
type Audit struct {
	Interval time.Duration
}

// Shutdown says how the server stops on SIGTERM or SIGINT.
type Shutdown struct {
	// Lameduck: /readyz answers 503 and queries are still answered for this
	// long before the listeners close, so that load balancers and anycast
	// route withdrawal see the instance go (CoreDNS's health lameduck).
	Lameduck time.Duration
}

// Discovers reports whether any endpoint is given by vpc_endpoint_id.
func (c *Config) Discovers() bool {
	for _, e := range c.Endpoints {
		if e.VPCEndpointID != "" {
			return true
		}
	}
	return false
}

// Log configures log/slog output.
type Log struct {
	Level   slog.Level
	Format  string // text | json
	Queries bool
}

// Endpoint is one interface VPC endpoint and the names it answers.
type Endpoint struct {
	// Name is the endpoint's stable label in metrics, status, logs, explain
	// and validate: given, or <service>-<region> (-2, -3 … when repeated).
	Name         string
	Region       string
	Service      string   // "s3", or another endpoint service ("sts", "ecr.dkr" …)
	Names        []string // another service's names: lower case, no final dot, maybe a leading "*."
	Hostname     string   // fully qualified, lower case, "" when only addresses are given
	Addresses    []netip.Addr
	Buckets      []string // lower case exact names or shell globs; "*" = every bucket
	PathStyle    bool
	AccessPoints []string
	MRAPs        []string // Multi-Region Access Point aliases or globs (service s3-global.accesspoint)
	Control      bool
	Dualstack    bool
	Answer       string
	OnUnresolved string
	TTL          time.Duration
	Health       *HealthCheck // nil: not probed
	OnUnhealthy  string       // when no address is up: keep | public | servfail
	// Fallback names the endpoints (of the same service and region) that
	// answer, the first with an address up, while none of this one's is;
	// FallbackIndexes are their places in the configuration.
	Fallback        []string
	FallbackIndexes []int
	// VPCEndpointID is the endpoint's id when discovery fills in what the
	// file leaves out: Hostname, ZonalHostnames, Addresses.
	VPCEndpointID string
	// VPCRegion is the region of the endpoint's VPC when discovery found it
	// in another region than Region's (a cross-Region endpoint, or a global
	// service's): its zonal hostnames and sites' zones are that region's
	// AZs. "" when the same or not known.
	VPCRegion string
	// ZonalHostnames maps an Availability Zone name to the endpoint's zonal
	// DNS name there (fully qualified, lower case).
	ZonalHostnames map[string]string
	// ZoneIDs maps an AZ id (euw2-az1) to the AZ name it has in the
	// endpoint's account: filled by discovery from the network interfaces.
	ZoneIDs map[string]string
	// Zone is set in a site's view of the endpoint (EndpointsFor): the AZ
	// (name or id) whose zonal hostname answers while one of its addresses
	// is up.
	Zone string
}

// Hostnames are the endpoint's own names: the regional hostname (when
// known), then the zonal ones in order.
func (e *Endpoint) Hostnames() []string {
	var out []string
	if e.Hostname != "" {
		out = append(out, e.Hostname)
	}
	return append(out, slices.Sorted(maps.Values(e.ZonalHostnames))...)
}

// ZonalHostname is the endpoint's zonal hostname in Zone, by AZ name or id.
func (e *Endpoint) ZonalHostname() (string, bool) {
	if e.Zone == "" {
		return "", false
	}
	if h, ok := e.ZonalHostnames[e.Zone]; ok {
		return h, true
	}
	h, ok := e.ZonalHostnames[e.ZoneIDs[e.Zone]]
	return h, ok
}

// ServesApex reports whether s3.<region>.amazonaws.com goes to the endpoint.
func (e *Endpoint) ServesApex() bool {
	if e.PathStyle {
		return true
	}
	for _, b := range e.Buckets {
		if b == "*" {
			return true
		}
	}
	return false
}

// TTLSeconds is the TTL of synthesized records as it goes on the wire.
func (e *Endpoint) TTLSeconds() uint32 { return uint32(e.TTL / time.Second) }

// AddressesOf returns the static addresses of one family.
func (e *Endpoint) AddressesOf(v6 bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range e.Addresses {
		if a.Is6() == v6 {
			out = append(out, a)
		}
	}
	return out
}
