package zones

import (
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// S3 Express One Zone names (directory buckets), in region R under its
// partition's suffix, as the AWS SDK's S3 endpoint resolver makes them:
//
//	<bucket>.s3express-<zone-id>[.dualstack].R   a directory bucket (--x-s3)
//	                                             or its access point (--xa-s3)
//	s3express-<zone-id>[.dualstack].R            the zonal endpoint (path-style)
//	s3express-control[.dualstack].R              the regional control endpoint
//
// The zone id in the name picks the endpoint's zonal hostname of that AZ.

const (
	expressPrefix  = "s3express-"
	expressControl = "s3express-control"
)

// express holds the S3 Express rules of one region.
type express struct {
	buckets, dualstackBuckets           *ruleSet // names ending --x-s3
	accessPoints, dualstackAccessPoints *ruleSet // names ending --xa-s3
	apex, dualstackApex                 int      // the zonal endpoints (path-style); -1: none
	apexRule, dualstackApexRule         string
	control, dualstackControl           int // -1: none
}

func newExpress() *express {
	return &express{buckets: newRuleSet("buckets"), dualstackBuckets: newRuleSet("buckets"),
		accessPoints: newRuleSet("access_points"), dualstackAccessPoints: newRuleSet("access_points"),
		apex: -1, dualstackApex: -1, control: -1, dualstackControl: -1}
}

// add folds S3 Express endpoint i in, in file order.
func (x *express) add(e *model.Endpoint, i int) {
	x.buckets.add(e.Buckets, i)
	x.accessPoints.add(e.AccessPoints, i)
	if x.control < 0 {
		x.control = i
	}
	if e.Dualstack {
		x.dualstackBuckets.add(e.Buckets, i)
		x.dualstackAccessPoints.add(e.AccessPoints, i)
		if x.dualstackControl < 0 {
			x.dualstackControl = i
		}
	}
	if (e.PathStyle || e.ServesApex()) && x.apex < 0 {
		x.apex, x.apexRule = i, apexRule(e)
	}
	if (e.PathStyle || e.ServesApex()) && e.Dualstack && x.dualstackApex < 0 {
		x.dualstackApex, x.dualstackApexRule = i, apexRule(e)
	}
}

func apexRule(e *model.Endpoint) string {
	if e.PathStyle {
		return "path_style: true"
	}
	return `buckets: "*" (implies path_style)`
}

// isExpress reports whether service (the labels before the region) is an
// S3 Express name.
func isExpress(service string) bool {
	last := strings.TrimSuffix(service, ".dualstack")
	if dot := strings.LastIndexByte(last, '.'); dot >= 0 {
		last = last[dot+1:]
	}
	return strings.HasPrefix(last, expressPrefix)
}

// matchExpress decides an S3 Express name in region r; az is the zone id
// the name carries ("" for the control endpoint).
func (m *Matcher) matchExpress(r *region, regionName, service string, explain bool) (idx int, rule, az, why string, ok bool) {
	x := r.express
	if x == nil {
		return 0, "", "", say(explain, "no endpoint with service: s3express is configured for region ", regionName), false
	}
	rest, dualstack := strings.CutSuffix(service, ".dualstack")
	label, zonal := rest, ""
	if dot := strings.LastIndexByte(rest, '.'); dot >= 0 {
		label, zonal = rest[dot+1:], rest[:dot]
	}
	if strings.Contains(label, "-fips") {
		return 0, "", "", "FIPS S3 Express names are not served by PrivateLink", false
	}
	if label == expressControl {
		idx := pick(x.control, x.dualstackControl, dualstack)
		if idx < 0 || zonal != "" {
			return 0, "", "", say(explain, "no endpoint with service: s3express and dualstack: true serves ", service), false
		}
		return idx, "service: s3express (control endpoint)", "", "", true
	}
	az = strings.TrimPrefix(label, expressPrefix)
	if az == "" {
		return 0, "", "", "not an S3 Express name", false
	}
	if zonal == "" {
		idx, rule := x.apex, x.apexRule
		if dualstack {
			idx, rule = x.dualstackApex, x.dualstackApexRule
		}
		if idx < 0 {
			return 0, "", "", "the S3 Express zonal endpoint (path-style requests) is served only with path_style: true or buckets: \"*\"", false
		}
		return idx, rule, az, "", true
	}
	if strings.Contains(zonal, ".") {
		return 0, "", "", "not an S3 Express name", false
	}
	set, kind := x.buckets, "directory bucket "
	switch {
	case strings.HasSuffix(zonal, "--xa-s3") && dualstack:
		set, kind = x.dualstackAccessPoints, "directory bucket access point "
	case strings.HasSuffix(zonal, "--xa-s3"):
		set, kind = x.accessPoints, "directory bucket access point "
	case dualstack:
		set = x.dualstackBuckets
	}
	if idx, rule, ok = set.match(zonal); !ok {
		return 0, "", "", say(explain, kind, zonal, " is not listed for region ", regionName, dualstackNote(dualstack)), false
	}
	return idx, rule, az, "", true
}

func pick(plain, dualstack int, ds bool) int {
	if ds {
		return dualstack
	}
	return plain
}

func dualstackNote(ds bool) string {
	if ds {
		return " on an endpoint with dualstack: true"
	}
	return ""
}

// say joins parts when explaining, so that matching allocates nothing.
func say(explain bool, parts ...string) string {
	if !explain {
		return ""
	}
	return strings.Join(parts, "")
}

// ExpressZones are the zones holding an S3 Express endpoint's names: the
// control endpoint's, and the zonal endpoint's of every zone id its
// exact bucket and access point names and its zonal hostnames name (a glob
// does not say which zones it will match), each dual-stack too with
// dualstack: true.
func ExpressZones(e *model.Endpoint) []string {
	suffix := "." + e.Region + "." + model.DNSSuffix(e.Region)
	heads := []string{expressControl}
	seen := map[string]bool{}
	addZone := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			heads = append(heads, expressPrefix+id)
		}
	}
	for _, n := range append(append([]string{}, e.Buckets...), e.AccessPoints...) {
		if !model.IsGlob(n) {
			addZone(ZoneIDOf(n))
		}
	}
	for az := range e.ZonalHostnames {
		if !strings.Contains(az, "-az") { // an AZ name: its id, when discovery knows it
			for id, name := range e.ZoneIDs {
				if name == az {
					az = id
				}
			}
		}
		if strings.Contains(az, "-az") {
			addZone(az)
		}
	}
	slices.Sort(heads[1:])
	var out []string
	for _, h := range heads {
		out = append(out, h+suffix)
		if e.Dualstack {
			out = append(out, h+".dualstack"+suffix)
		}
	}
	return out
}

// ZoneIDOf is the zone id a directory bucket's (or its access point's)
// name carries: use1-az4 of analytics--use1-az4--x-s3; "" for none.
func ZoneIDOf(name string) string {
	rest, ok := strings.CutSuffix(name, "--x-s3")
	if !ok {
		if rest, ok = strings.CutSuffix(name, "--xa-s3"); !ok {
			return ""
		}
	}
	i := strings.LastIndex(rest, "--")
	if i < 0 {
		return ""
	}
	return rest[i+2:]
}

// ExpressName is a directory bucket's (or its access point's) virtual-hosted
// name, in the zone its name carries; "" for a name that carries none.
func ExpressName(name, region string, dualstack bool) string {
	id := ZoneIDOf(name)
	if id == "" {
		return ""
	}
	host := name + "." + expressPrefix + id
	if dualstack {
		host += ".dualstack"
	}
	return host + "." + region + "." + model.DNSSuffix(region)
}
