// Package onprem generates the on-prem side of a configuration: conditional
// forwarders for BIND, Unbound and Windows DNS, or an equivalent BIND RPZ.
package onprem

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// Server is where the on-prem resolvers reach s3dns.
type Server struct {
	Addr netip.Addr
	Port int
	// TLSName, when set, makes the resolver forward over DNS over TLS,
	// verifying s3dns's certificate for this name; CABundle is the PEM
	// file of the roots it is verified against ("": the system's).
	TLSName, CABundle string
}

// OverTLS turns servers into DoT forwarders verified for name (a port left
// at 53 becomes 853, DoT's).
func OverTLS(servers []Server, name, caBundle string) []Server {
	out := make([]Server, len(servers))
	for i, s := range servers {
		if s.Port == 53 {
			s.Port = 853
		}
		s.TLSName, s.CABundle = name, caBundle
		out[i] = s
	}
	return out
}

// ParseServer reads IP, [IPv6] or IP:PORT (port 53 by default).
func ParseServer(s string) (Server, error) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return Server{Addr: a, Port: 53}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Server{}, fmt.Errorf("--server: %q is not IP or IP:PORT", s)
	}
	a, err := netip.ParseAddr(host)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p < 1 || p > 65535 {
		return Server{}, fmt.Errorf("--server: %q is not IP or IP:PORT", s)
	}
	return Server{Addr: a, Port: p}, nil
}

// ParseServers reads every --server value (each IP or IP:PORT, or several
// of them comma-separated), in order, without repeats.
func ParseServers(values []string) ([]Server, error) {
	var out []Server
	for _, v := range values {
		for _, one := range strings.Split(v, ",") {
			s, err := ParseServer(strings.TrimSpace(one))
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// String is the server as BIND and the comments name it.
func (s Server) String() string { return fmt.Sprintf("%s port %d", s.Addr, s.Port) }

// DefaultServer is the first listen address when it names one host.
func DefaultServer(cfg *model.Config) (Server, error) {
	for _, l := range cfg.Listen {
		if s, err := ParseServer(l); err == nil && !s.Addr.IsUnspecified() {
			return s, nil
		}
	}
	return Server{}, fmt.Errorf("the listen addresses %v name no single host: give --server IP[:PORT]", cfg.Listen)
}

// Zone is one name the on-prem resolvers forward to s3dns.
type Zone struct {
	Name   string // without the final dot
	Reason string // a comment for the generated file
}

// ForwardZones lists the zones to forward: one per served region and kind of
// name, or with perBucket each exact bucket on its own where the region's
// endpoints list only exact buckets (split access without s3dns deciding).
func ForwardZones(cfg *model.Config, perBucket bool) []Zone {
	var out []Zone
	seen := map[string]bool{}
	add := func(name, reason string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, Zone{name, reason})
		}
	}
	exactOnly := map[string]bool{}
	for _, e := range cfg.Endpoints {
		if _, ok := exactOnly[e.Region]; !ok {
			exactOnly[e.Region] = true
		}
		if e.ServesApex() {
			exactOnly[e.Region] = false
		}
		for _, b := range e.Buckets {
			if model.IsGlob(b) {
				exactOnly[e.Region] = false
			}
		}
	}
	for i := range cfg.Endpoints {
		e := &cfg.Endpoints[i]
		r := e.Region
		for _, z := range zones.ServiceZones(e) {
			add(z, "service "+e.Service+" of "+r)
		}
		switch e.Service {
		case model.ServiceS3Express:
			for _, z := range zones.ExpressZones(e) {
				add(z, "S3 Express One Zone of "+r)
			}
		case model.ServiceMRAP:
			add(zones.MRAPZone, "Multi-Region Access Points")
		}
		if e.Health != nil && e.Hostname != "" {
			// A resolver chases the CNAME target itself: only if it asks
			// s3dns can health checks keep down addresses out of its answers.
			add(strings.TrimSuffix(e.Hostname, "."), "endpoint hostname of "+r+" (health checks leave its down addresses out)")
		}
		if len(cfg.Sites) > 0 {
			// A resolver that caches per client subnet re-asks a CNAME's
			// target itself: asked elsewhere, it would file the chain for
			// every site.
			for _, h := range e.Hostnames() {
				add(strings.TrimSuffix(h, "."), "endpoint hostname of "+r+" (sites: answered per site)")
			}
		}
		split := perBucket && exactOnly[r]
		for _, k := range zones.Kinds(e) {
			switch {
			case split && k == zones.Buckets:
				for _, b := range e.Buckets {
					add(zones.Name(b, zones.Buckets, r), "bucket "+b)
					if e.Dualstack {
						add(zones.Name(b, zones.DualstackBuckets, r), "bucket "+b+", dualstack")
					}
				}
			case split && k == zones.DualstackBuckets: // each beside its bucket above
			default:
				add(zones.ZoneName(k, r), zoneReason(k, r))
			}
		}
	}
	return out
}

// zoneReason says what a served zone holds, for the generated comments.
func zoneReason(k zones.Kind, region string) string {
	switch k {
	case zones.Buckets:
		return "buckets of " + region + " (s3dns answers the listed ones, forwards the rest)"
	case zones.DualstackBuckets:
		return "dualstack buckets of " + region
	case zones.AccessPoints:
		return "access points of " + region
	case zones.DualstackAccessPoints:
		return "dualstack access points of " + region
	}
	return "S3 control of " + region
}

// privateDomains are the names whose answers hold the endpoint's private
// addresses, which DNS-rebind protection would otherwise strip.
func privateDomains(cfg *model.Config, zones []Zone) []string {
	var out []string
	seen := map[string]bool{}
	for _, z := range zones {
		if !seen[z.Name] {
			seen[z.Name] = true
			out = append(out, z.Name)
		}
	}
	for _, e := range cfg.Endpoints {
		if e.Hostname != "" && !seen["vpce.amazonaws.com"] {
			seen["vpce.amazonaws.com"] = true
			out = append(out, "vpce.amazonaws.com")
		}
	}
	return out
}
