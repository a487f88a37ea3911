package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/s3dns/s3dns/model"
)

func endpoint(p *problems, key string, raw rawEndpoint) model.Endpoint {
	e := model.Endpoint{
		Region:       strings.ToLower(raw.Region),
		PathStyle:    raw.PathStyle,
		Control:      raw.Control,
		Dualstack:    raw.Dualstack,
		Answer:       strings.ToLower(raw.Answer),
		OnUnresolved: strings.ToLower(raw.OnUnresolved),
		TTL:          duration(p, key+".ttl", raw.TTL, time.Second),
	}
	global := strings.EqualFold(strings.TrimSpace(raw.Service), model.ServiceMRAP)
	switch why := regionProblem(e.Region); {
	case global && e.Region != "":
		p.errorf(key+".region", "%q: service %s is global, its names carry no region: leave region out", raw.Region, model.ServiceMRAP)
	case !global && why != "":
		p.errorf(key+".region", "%q %s", raw.Region, why)
	}
	if hostname := raw.Hostname; hostname != "" {
		if strings.HasPrefix(hostname, "*.") {
			// The console and DescribeVpcEndpoints list the wildcard form first.
			hostname = hostname[2:]
			p.notef(key+".hostname", "the leading \"*.\" is dropped: %s", hostname)
		}
		if problem := HostnameProblem(hostname); problem != "" {
			p.errorf(key+".hostname", "%q is not a valid DNS name: %s", raw.Hostname, problem)
		} else if mistake := hostnameMistake(hostname, e.Region); mistake != "" {
			p.errorf(key+".hostname", "%q %s", raw.Hostname, mistake)
		} else {
			e.Hostname = model.Fqdn(hostname)
		}
	}
	for i, a := range raw.Addresses {
		addr, err := netip.ParseAddr(a)
		if err != nil || addr.Zone() != "" {
			p.errorf(fmt.Sprintf("%s.addresses[%d]", key, i), "%q is not an IP address", a)
			continue
		}
		e.Addresses = append(e.Addresses, addr.Unmap())
	}
	discoveredKeys(p, key, raw, &e)
	if raw.Hostname == "" && len(raw.Addresses) == 0 && raw.VPCEndpointID == "" {
		p.errorf(key, "needs a vpc_endpoint_id, a hostname or addresses")
	}
	serviceEndpoint(p, key, raw, &e)
	e.Health = healthCheck(p, key+".health", raw.Health)
	e.OnUnhealthy = onUnhealthy(p, key+".on_unhealthy", raw.OnUnhealthy, e.Health)
	if e.Service == model.ServiceS3Express {
		e.Buckets = patterns(p, key+".buckets", raw.Buckets, validDirectoryBucket, "directory bucket name ("+directoryBucketRule+")")
		e.AccessPoints = patterns(p, key+".access_points", raw.AccessPoints, validDirectoryAccessPoint, "directory bucket access point (<name>--<zone-id>--xa-s3)")
	} else {
		e.Buckets = patterns(p, key+".buckets", raw.Buckets, validBucket, "bucket name ("+bucketRule+")")
		e.AccessPoints = patterns(p, key+".access_points", raw.AccessPoints, validAccessPoint, `access point ("<name>-<12 digit account id>")`)
	}
	e.MRAPs = patterns(p, key+".mraps", raw.MRAPs, validMRAPAlias, "Multi-Region Access Point alias (lower-case letters and digits, like mfzwi23gnjvgw)")
	for i, b := range e.Buckets {
		if !model.IsGlob(b) && strings.Contains(b, ".") && !raw.PathStyle {
			p.warnf(fmt.Sprintf("%s.buckets[%d]", key, i),
				"%q contains a dot: its virtual-hosted HTTPS name does not match the endpoint's wildcard certificate, so clients use path-style requests, which only path_style: true sends to the endpoint", b)
		}
	}
	switch e.Answer {
	case model.AnswerCNAME, model.AnswerAlias:
	default:
		p.errorf(key+".answer", "%q is not one of cname, alias", raw.Answer)
	}
	switch e.OnUnresolved {
	case model.UnresolvedCNAME, model.UnresolvedPublic, model.UnresolvedServfail:
	default:
		p.errorf(key+".on_unresolved", "%q is not one of cname, public, servfail", raw.OnUnresolved)
	}
	// An endpoint whose names were all rejected has its errors already.
	rejected := len(raw.Buckets)+len(raw.AccessPoints) > 0
	rejected = rejected || len(raw.MRAPs) > 0
	if servesS3Names(e.Service) && len(e.Buckets) == 0 && len(e.AccessPoints) == 0 && len(e.MRAPs) == 0 && !e.PathStyle && !e.Control && !rejected {
		p.warnf(key, "lists no buckets, access points, path_style or control: it answers no names")
	}
	return e
}

// servesS3Names reports whether service's names come from lists of
// buckets, access points or aliases (S3 and Multi-Region Access Points;
// S3 Express answers its control names with none listed).
func servesS3Names(service string) bool {
	return service == model.ServiceS3 || service == model.ServiceMRAP
}

// patterns lower-cases and checks exact names and globs of one list.
func patterns(p *problems, key string, list []string, valid func(string) bool, what string) []string {
	var out []string
	seen := map[string]bool{}
	for i, s := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		v := strings.ToLower(strings.TrimSpace(s))
		switch {
		case strings.HasSuffix(strings.TrimSuffix(v, "."), ".amazonaws.com") || strings.HasSuffix(strings.TrimSuffix(v, "."), ".amazonaws.com.cn"):
			// A whole host name pasted where the list wants the bucket.
			p.errorf(k, "%q is a host name, not a name to list: give %q", s, firstLabels(v))
		case model.IsGlob(v) && globProblem(v) != "":
			p.errorf(k, "%q %s", s, globProblem(v))
		case !model.IsGlob(v) && !valid(v):
			p.errorf(k, "%q is not a valid %s", s, what)
		case seen[v]:
			p.errorf(k, "%q is listed twice", s)
		default:
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// hostnameMistake catches a hostname that is a valid name but not the
// endpoint's: S3's public name pasted from a client's configuration, or an
// endpoint of another region (an endpoint answers only its own region's
// names). "" when none is seen.
func hostnameMistake(hostname, region string) string {
	h := strings.ToLower(strings.TrimSuffix(hostname, "."))
	for _, suffix := range []string{".vpce.amazonaws.com", ".vpce.amazonaws.com.cn"} {
		if rest, ok := strings.CutSuffix(h, suffix); ok {
			labels := strings.Split(rest, ".")
			if in := labels[len(labels)-1]; ValidRegion(in) && region != "" && in != region {
				return fmt.Sprintf("is an endpoint in %s, but region is %s: an endpoint serves its own region's names only", in, region)
			}
			return ""
		}
	}
	if h == "amazonaws.com" || strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") {
		return "is a public AWS name, not the endpoint's own: give the endpoint's DNS name (vpce-….vpce.amazonaws.com, " +
			"from the console's DNS names or s3dns discover)"
	}
	return ""
}

// firstLabels is what comes before the S3 part of a host name: the bucket
// of "mybucket.s3.eu-west-2.amazonaws.com".
func firstLabels(host string) string {
	for _, marker := range []string{".s3.", ".s3-accesspoint.", ".s3-control.", ".s3-"} {
		if i := strings.Index(host, marker); i > 0 {
			return host[:i]
		}
	}
	name, _, _ := strings.Cut(host, ".")
	return name
}

// checkDuplicates rejects the same exact bucket or access point on two
// endpoints: which one answers would otherwise depend on file order.
func checkDuplicates(p *problems, endpoints []model.Endpoint, keys []string) {
	buckets, accessPoints := map[string]int{}, map[string]int{}
	for i, e := range endpoints {
		firstOwner(p, keys[i]+".buckets", i, e.Buckets, buckets, keys)
		firstOwner(p, keys[i]+".access_points", i, e.AccessPoints, accessPoints, keys)
	}
}

// firstOwner records which endpoint lists each exact name first and
// reports a later endpoint listing it again.
func firstOwner(p *problems, key string, endpoint int, names []string, owners map[string]int, keys []string) {
	for j, n := range names {
		if model.IsGlob(n) {
			continue
		}
		if first, dup := owners[n]; dup {
			p.errorf(fmt.Sprintf("%s[%d]", key, j), "%q is already listed on %s", n, keys[first])
		} else {
			owners[n] = endpoint
		}
	}
}
