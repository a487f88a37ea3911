package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/s3dns/s3dns/model"
)

// vpcEndpointID is what EC2 calls an interface endpoint: vpce- and 8 or 17
// hexadecimal digits.
var vpcEndpointID = regexp.MustCompile(`^vpce-([0-9a-f]{8}|[0-9a-f]{17})$`)

// availabilityZone is an AZ name as EC2 gives it (eu-west-2a, us-gov-west-1b).
var availabilityZone = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$`)

// ValidAvailabilityZone reports whether s is an Availability Zone name.
func ValidAvailabilityZone(s string) bool { return availabilityZone.MatchString(s) }

// availabilityZoneID is an AZ id (euw2-az1, use1-az4): the same physical
// zone in every account, where names are shuffled per account.
var availabilityZoneID = regexp.MustCompile(`^[a-z]{2,5}[0-9]+-az[0-9]+$`)

// ValidAvailabilityZoneID reports whether s is an Availability Zone id.
func ValidAvailabilityZoneID(s string) bool { return availabilityZoneID.MatchString(s) }

func awsConfig(p *problems, raw rawAWS) model.AWS {
	a := model.AWS{Region: strings.ToLower(strings.TrimSpace(raw.Region)), Profile: strings.TrimSpace(raw.Profile),
		EndpointURL: strings.TrimSpace(raw.EndpointURL)}
	if why := regionProblem(a.Region); a.Region != "" && why != "" {
		p.errorf("aws.region", "%q %s", raw.Region, why)
	}
	if a.EndpointURL != "" {
		u, err := url.Parse(a.EndpointURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.errorf("aws.endpoint_url", "%q is not an http:// or https:// URL", raw.EndpointURL)
		}
	}
	return a
}

func discoveryConfig(p *problems, raw rawDiscovery) model.Discovery {
	// The state file's directory may not exist yet: the unit's
	// StateDirectory= makes it when the service starts, and a failed write
	// is logged then.
	return model.Discovery{Interval: duration(p, "discovery.interval", raw.Interval, time.Second), StateFile: strings.TrimSpace(raw.StateFile)}
}

// discoveredKeys checks an endpoint's vpc_endpoint_id and zonal_hostnames.
func discoveredKeys(p *problems, key string, raw rawEndpoint, e *model.Endpoint) {
	if raw.VPCEndpointID != "" {
		id := strings.ToLower(strings.TrimSpace(raw.VPCEndpointID))
		if vpcEndpointID.MatchString(id) {
			e.VPCEndpointID = id
		} else {
			p.errorf(key+".vpc_endpoint_id", "%q is not a VPC endpoint id (vpce- and 8 or 17 hexadecimal digits)", raw.VPCEndpointID)
		}
	}
	for _, az := range sortedKeys(raw.ZonalHostnames) {
		k := fmt.Sprintf("%s.zonal_hostnames.%s", key, az)
		zone := strings.ToLower(az)
		if !ValidAvailabilityZone(zone) && !zoneIDPattern.MatchString(zone) {
			p.errorf(k, "%q is not an Availability Zone name (like eu-west-2a) or id (like use1-az4)", az)
			continue
		}
		host := strings.TrimPrefix(raw.ZonalHostnames[az], "*.")
		if problem := HostnameProblem(host); problem != "" {
			p.errorf(k, "%q is not a valid DNS name: %s", raw.ZonalHostnames[az], problem)
			continue
		}
		if e.ZonalHostnames == nil {
			e.ZonalHostnames = map[string]string{}
		}
		e.ZonalHostnames[zone] = model.Fqdn(host)
	}
}
