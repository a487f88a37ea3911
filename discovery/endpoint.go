// Package discovery learns interface VPC endpoints from the EC2 API: their
// service, regional and zonal DNS names and the private addresses of their
// network interfaces. A Refresher keeps that data current for the
// endpoints a configuration gives by vpc_endpoint_id; s3dns discover lists
// every endpoint it finds.
package discovery

import (
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Endpoint is what EC2 says about one interface endpoint.
type Endpoint struct {
	ID          string
	VPCID       string
	State       string // available, pending, …
	ServiceName string // as EC2 names it: com.amazonaws.eu-west-2.s3
	// Service is the short name s3dns configures (s3, sts, ecr.dkr); ""
	// when ServiceName is not an AWS service of the endpoint's region.
	Service string
	// Region is the service's region, whose names the endpoint answers;
	// VPCRegion the region of the VPC it is in. They differ for a
	// cross-Region endpoint (EC2's ServiceRegion); Region is "" for a
	// global service.
	Region    string
	VPCRegion string
	// Hostname is the regional DNS name, without the leading "*.".
	Hostname string
	// ZonalHostnames maps an Availability Zone name to the zonal DNS name.
	ZonalHostnames map[string]string
	Subnets        []string
	Zones          []string // Availability Zones of the network interfaces, sorted
	// ZoneIDs maps the interfaces' AZ ids to their AZ names in this account.
	ZoneIDs map[string]string
	// Addresses are the private IPv4 and IPv6 addresses of the network
	// interfaces, sorted.
	Addresses []netip.Addr
	// PrivateDNS: the VPC resolves the service's public names to it.
	PrivateDNS bool
}

// Equal reports whether a and b would be answered the same.
func (a *Endpoint) Equal(b *Endpoint) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Hostname == b.Hostname &&
		slices.Equal(a.Addresses, b.Addresses) && maps.Equal(a.ZonalHostnames, b.ZonalHostnames) && maps.Equal(a.ZoneIDs, b.ZoneIDs)
}

// zonalLabel is the first label of a zonal name:
// vpce-<id>-<suffix>-<az>, the AZ last (eu-west-2a, us-gov-west-1b).
var zonalLabel = regexp.MustCompile(`^vpce-[0-9a-f]+-[0-9a-z]+-([a-z]{2}(?:-[a-z]+)+-[0-9]+[a-z])$`)

// sortNames files the DNS entries of an endpoint: the regional name, and
// the zonal names by AZ. Names that do not start with the endpoint's own
// "vpce-" label (the service's private DNS names) are not its names.
func sortNames(e *Endpoint, dnsNames []string) {
	for _, n := range dnsNames {
		name := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(n, "*."), "."))
		first, _, _ := strings.Cut(name, ".")
		if !strings.HasPrefix(first, "vpce-") {
			continue
		}
		if m := zonalLabel.FindStringSubmatch(first); m != nil {
			if e.ZonalHostnames == nil {
				e.ZonalHostnames = map[string]string{}
			}
			e.ZonalHostnames[m[1]] = name
		} else if e.Hostname == "" {
			e.Hostname = name
		}
	}
}

// shortService turns com.amazonaws.<region>.<service> (cn.com.amazonaws. in
// China) into <service> and says the region; a global service
// (com.amazonaws.s3-global.accesspoint, com.amazonaws.iam) has none.
// Anything else (a partner's or one's own endpoint service) gives "".
func shortService(serviceName string) (service, region string) {
	rest, ok := strings.CutPrefix(serviceName, "com.amazonaws.")
	if !ok {
		if rest, ok = strings.CutPrefix(serviceName, "cn.com.amazonaws."); !ok {
			return "", ""
		}
	}
	first, tail, _ := strings.Cut(rest, ".")
	switch {
	case first == "vpce":
		return "", "" // com.amazonaws.vpce.<region>.vpce-svc-…: an endpoint service of someone's own
	case regionLabel.MatchString(first) && tail != "":
		return tail, first
	case regionLabel.MatchString(first):
		return "", ""
	}
	return rest, "" // global
}

// regionLabel is an AWS region's name (eu-west-2, us-gov-west-1, cn-north-1).
var regionLabel = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
