package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/s3dns/s3dns/model"
)

var servicePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// serviceEndpoint checks the keys that depend on service and sets Names:
// S3 keeps its own rules; another service answers the table's names, or
// the endpoint's own names, which replace them.
func serviceEndpoint(p *problems, key string, raw rawEndpoint, e *model.Endpoint) {
	e.Service = strings.ToLower(strings.TrimSpace(raw.Service))
	if e.Service != model.ServiceMRAP && len(raw.MRAPs) > 0 {
		p.errorf(key+".mraps", "is only for service: %s, not %q", model.ServiceMRAP, e.Service)
	}
	switch e.Service {
	case model.ServiceS3, model.ServiceS3Express, model.ServiceMRAP:
		if len(raw.Names) > 0 {
			p.errorf(key+".names", "is not for service: %s, whose names come from its lists (buckets, access_points, mraps …)", e.Service)
		}
		switch e.Service {
		case model.ServiceS3Express:
			// Directory buckets: no control key (s3express-control is
			// answered for every S3 Express endpoint).
			if raw.Control {
				p.errorf(key+".control", "is not for service: %s: its control name (s3express-control.REGION) is always answered", e.Service)
			}
		case model.ServiceMRAP:
			s3Only(p, key, e.Service, map[string]bool{"buckets": len(raw.Buckets) > 0, "path_style": raw.PathStyle,
				"access_points": len(raw.AccessPoints) > 0, "control": raw.Control, "dualstack": raw.Dualstack})
		}
		return
	}
	if !servicePattern.MatchString(e.Service) {
		p.errorf(key+".service", "%q is not an endpoint service name (like sts, ecr.dkr or execute-api)", raw.Service)
		return
	}
	s3Only(p, key, e.Service, map[string]bool{"buckets": len(raw.Buckets) > 0, "path_style": raw.PathStyle,
		"access_points": len(raw.AccessPoints) > 0, "control": raw.Control, "dualstack": raw.Dualstack})
	if len(raw.Names) == 0 {
		names, ok := model.ServiceNames(e.Service, e.Region)
		if !ok {
			p.errorf(key+".service", "%q is not in the built-in table (%s): give its private DNS names under names",
				e.Service, strings.Join(model.KnownServices(), ", "))
		}
		e.Names = names
		return
	}
	seen := map[string]bool{}
	for i, n := range raw.Names {
		k := fmt.Sprintf("%s.names[%d]", key, i)
		name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
		switch {
		case !validServiceName(name):
			p.errorf(k, "%q is not a DNS name under an AWS service suffix (amazonaws.com, api.aws, amazonaws.com.cn …; a leading \"*.\" label is allowed)", n)
		case isS3Name(name):
			p.errorf(k, "%q is an S3 name: use an endpoint with service: s3", n)
		case seen[name]:
			p.errorf(k, "%q is listed twice", n)
		default:
			seen[name] = true
			e.Names = append(e.Names, name)
		}
	}
}

// validServiceName accepts a host name under a partition's service suffix
// (amazonaws.com, api.aws, amazonaws.com.cn …), with at most a leading
// "*." label.
func validServiceName(name string) bool {
	host := strings.TrimPrefix(name, "*.")
	if !ValidHostname(host) || strings.Contains(host, "*") {
		return false
	}
	for _, s := range model.ServiceSuffixes() {
		if strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}

// isS3Name reports a name in the S3 zones (s3.R, s3-accesspoint.R …).
func isS3Name(name string) bool {
	for _, l := range strings.Split(strings.TrimPrefix(name, "*."), ".") {
		if l == "s3" || strings.HasPrefix(l, "s3-") {
			return true
		}
	}
	return false
}

// checkServiceNames rejects two endpoints answering the same service name:
// which one answers would otherwise depend on file order.
func checkServiceNames(p *problems, endpoints []model.Endpoint, keys []string) {
	owners := map[string]int{}
	for i, e := range endpoints {
		for j, n := range e.Names {
			if first, dup := owners[n]; dup {
				p.errorf(fmt.Sprintf("%s.names[%d]", keys[i], j), "%q is already answered by %s (service %s)",
					n, keys[first], endpoints[first].Service)
				continue
			}
			owners[n] = i
		}
	}
}

// s3Only reports each S3-only key that is set on a key of another service.
func s3Only(p *problems, key, service string, set map[string]bool) {
	for _, k := range sortedKeys(set) {
		if set[k] {
			p.errorf(key+"."+k, "is only for service: s3, not %q", service)
		}
	}
}
