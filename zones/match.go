// Package zones decides which S3 names an interface VPC endpoint answers and
// synthesizes those answers. It is pure: a name in, a decision out, no I/O.
package zones

import (
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// Match is the decision for a name that an endpoint answers.
type Match struct {
	Endpoint *model.Endpoint
	Index    int    // position of the endpoint in the configuration
	Rule     string // the rule that chose it, e.g. `buckets: "logs-*" (glob)`
	Zone     string // lower-case served zone the name lies in, e.g. "s3.eu-west-2.amazonaws.com."
	// AZ is the Availability Zone id an S3 Express name carries (use1-az4):
	// its zonal hostname answers. "" for other names.
	AZ string
}

// Matcher matches names against the endpoints of one configuration.
type Matcher struct {
	endpoints []model.Endpoint
	regions   map[string]*region
	zones     map[string]bool // every served zone, without the final dot
	services  services        // the names of endpoints for other services than S3
	mraps     *ruleSet        // Multi-Region Access Point aliases (a global service)
}

// New indexes endpoints; it keeps the slice, which must not change afterwards.
func New(endpoints []model.Endpoint) *Matcher {
	m := &Matcher{endpoints: endpoints, regions: map[string]*region{}, zones: map[string]bool{}, services: newServices(),
		mraps: newRuleSet("mraps")}
	byRegion := map[string][]int{}
	regionOf := func(name string) *region {
		r, ok := m.regions[name]
		if !ok {
			r = newRegion(name)
			m.regions[name] = r
		}
		return r
	}
	for i := range endpoints {
		e := &endpoints[i]
		switch e.Service {
		case model.ServiceMRAP:
			m.mraps.add(e.MRAPs, i)
			m.zones[MRAPZone] = true
			continue
		case model.ServiceS3Express:
			r := regionOf(e.Region)
			if r.express == nil {
				r.express = newExpress()
			}
			r.express.add(e, i)
			for _, z := range ExpressZones(e) {
				m.zones[z] = true
			}
			continue
		}
		if e.Service != model.ServiceS3 && e.Service != "" {
			m.services.add(e, i)
			for _, n := range e.Names {
				m.zones[strings.TrimPrefix(n, "*.")] = true
			}
			continue
		}
		r := regionOf(e.Region)
		r.add(e, i)
		for _, k := range Kinds(e) {
			m.zones[ZoneName(k, e.Region)] = true
		}
		byRegion[e.Region] = append(byRegion[e.Region], i)
	}
	for name, idx := range byRegion {
		m.regions[name].finishApex(endpoints, idx)
	}
	return m
}

// Match returns the endpoint that answers qname, if any. qname may be in any
// letter case, with or without the final dot.
func (m *Matcher) Match(qname string) (Match, bool) {
	match, _, ok := m.decide(qname, false)
	return match, ok
}

// Explain is Match with the reason a name is not answered.
func (m *Matcher) Explain(qname string) (Match, string, bool) {
	return m.decide(qname, true)
}

// decide matches qname; the reason for no match is only worded when
// explain is set, so that Match allocates nothing.
func (m *Matcher) decide(qname string, explain bool) (Match, string, bool) {
	why := func(parts ...string) string { return say(explain, parts...) }
	name := strings.TrimSuffix(lower(qname), ".")
	if r, ok := m.services.match(name); ok {
		return Match{Endpoint: &m.endpoints[r.endpoint], Index: r.endpoint, Rule: r.text, Zone: r.zone}, "", true
	}
	if strings.HasSuffix(name, mrapSuffix) {
		return m.matchMRAP(name, explain)
	}
	rest, suffix, ok := cutPartitionSuffix(name)
	if !ok {
		return Match{}, "not an AWS service name (amazonaws.com, amazonaws.com.cn …)", false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		if rest == "s3" || strings.HasPrefix(rest, "s3-") {
			return Match{}, refusedLegacy, false
		}
		return Match{}, "not an S3 name", false
	}
	regionName, service := rest[dot+1:], rest[:dot]
	if strings.HasPrefix(regionName, "s3") {
		return Match{}, unservedReason(regionName), false
	}
	if want := model.DNSSuffix(regionName); suffix != want {
		return Match{}, why("names of region ", regionName, " end in ", want, ", not ", suffix), false
	}
	r := m.regions[regionName]
	if r == nil {
		return Match{}, why("no endpoint is configured for region ", regionName), false
	}
	if isExpress(service) {
		idx, rule, az, reason, ok := m.matchExpress(r, regionName, service, explain)
		if !ok {
			return Match{}, reason, false
		}
		// The zone (for the SOA of negative answers) is made when needed
		// (ZoneOf): here it would allocate on every query.
		return Match{Endpoint: &m.endpoints[idx], Index: idx, Rule: rule, AZ: az}, "", true
	}
	var (
		idx  int
		rule string
		zn   string
	)
	switch {
	case service == "s3":
		idx, rule, zn = r.apex, r.apexRule, r.zoneS3
		if idx < 0 {
			return Match{}, "the regional apex (path-style requests) is served only with path_style: true or buckets: \"*\"", false
		}
	case service == "s3.dualstack":
		idx, rule, zn = r.dualstackApex, r.dualstackApexRule, r.zoneDualstack
		if idx < 0 {
			return Match{}, "no endpoint with dualstack: true serves the dualstack apex", false
		}
	case strings.HasSuffix(service, ".s3.dualstack"):
		bucket := strings.TrimSuffix(service, ".s3.dualstack")
		if idx, rule, ok = r.dualstackBuckets.match(bucket); !ok {
			return Match{}, why("bucket ", bucket, " is not listed on an endpoint with dualstack: true"), false
		}
		zn = r.zoneDualstack
	case strings.HasSuffix(service, ".s3"):
		bucket := strings.TrimSuffix(service, ".s3")
		if idx, rule, ok = r.buckets.match(bucket); !ok {
			return Match{}, why("bucket ", bucket, " is not listed for region ", regionName), false
		}
		zn = r.zoneS3
	case strings.HasSuffix(service, ".s3-accesspoint") && strings.Count(service, ".") == 1:
		ap := strings.TrimSuffix(service, ".s3-accesspoint")
		if idx, rule, ok = r.accessPoints.match(ap); !ok {
			return Match{}, why("access point ", ap, " is not listed for region ", regionName), false
		}
		zn = r.zoneAccessPoint
	case strings.HasSuffix(service, ".s3-accesspoint.dualstack") && strings.Count(service, ".") == 2:
		ap := strings.TrimSuffix(service, ".s3-accesspoint.dualstack")
		if idx, rule, ok = r.dualstackAPs.match(ap); !ok {
			return Match{}, why("access point ", ap, " is not listed on an endpoint with dualstack: true for region ", regionName), false
		}
		zn = r.zoneDualstackAP
	case service == "s3-control" || strings.HasSuffix(service, ".s3-control") && strings.Count(service, ".") == 1:
		idx, rule, zn = r.control, "control: true", r.zoneControl
		if idx < 0 {
			return Match{}, why("no endpoint in region ", regionName, " sets control: true"), false
		}
	default:
		return Match{}, unservedReason(service), false
	}
	return Match{Endpoint: &m.endpoints[idx], Index: idx, Rule: rule, Zone: zn}, "", true
}

// cutPartitionSuffix splits name into what comes before a partition's
// service suffix (amazonaws.com, amazonaws.com.cn …) and that suffix.
func cutPartitionSuffix(name string) (rest, suffix string, ok bool) {
	for _, s := range partitionSuffixes {
		if rest, ok := strings.CutSuffix(name, "."+s); ok {
			return rest, s, true
		}
	}
	return "", "", false
}

// partitionSuffixes are the partitions' suffixes of service names, longest
// first (amazonaws.com.cn before amazonaws.com).
var partitionSuffixes = func() []string {
	out := model.DNSSuffixes()
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}()

// ZoneOf is the served zone qname lies in (lower case, fully qualified):
// m.Zone, or for an S3 Express name, the labels from the s3express one on.
func ZoneOf(m Match, qname string) string {
	if m.Zone != "" {
		return m.Zone
	}
	name := strings.TrimSuffix(lower(qname), ".")
	if i := strings.Index(name, expressPrefix); i >= 0 && (i == 0 || name[i-1] == '.') {
		return name[i:] + "."
	}
	return name + "."
}

// lower returns s in lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
