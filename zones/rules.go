package zones

import (
	"fmt"

	"github.com/s3dns/s3dns/model"
)

// rule is one pattern's decision, its explanation built once.
type rule struct {
	endpoint int
	text     string // e.g. `buckets: "logs-*" (glob)`
}

type globRule struct {
	pattern string
	rule
}

// ruleSet holds one kind of pattern (buckets or access points) of the
// endpoints of one region, indexed for precedence.
type ruleSet struct {
	kind  string // "buckets" or "access_points", for explanations
	exact map[string]rule
	globs globIndex
	star  *rule // first endpoint with "*"
}

func newRuleSet(kind string) *ruleSet {
	return &ruleSet{kind: kind, exact: map[string]rule{}}
}

func (r *ruleSet) add(patterns []string, endpoint int) {
	for _, p := range patterns {
		switch {
		case p == "*":
			if r.star == nil {
				r.star = &rule{endpoint, fmt.Sprintf(`%s: "*"`, r.kind)}
			}
		case model.IsGlob(p):
			r.globs.add(globRule{p, rule{endpoint, fmt.Sprintf("%s: %q (glob)", r.kind, p)}})
		default:
			if _, dup := r.exact[p]; !dup {
				r.exact[p] = rule{endpoint, fmt.Sprintf("%s: %q (exact)", r.kind, p)}
			}
		}
	}
}

// match returns the endpoint index for name and the rule that chose it,
// without allocating: it is on the path of every query.
func (r *ruleSet) match(name string) (int, string, bool) {
	if x, ok := r.exact[name]; ok {
		return x.endpoint, x.text, true
	}
	if g, ok := r.globs.match(name); ok {
		return g.endpoint, g.text, true
	}
	if r.star != nil {
		return r.star.endpoint, r.star.text, true
	}
	return 0, "", false
}

// region holds the rules of every endpoint serving one region.
type region struct {
	buckets           *ruleSet
	dualstackBuckets  *ruleSet
	accessPoints      *ruleSet
	dualstackAPs      *ruleSet
	apex              int // -1: path_style apex not served
	apexRule          string
	dualstackApex     int
	dualstackApexRule string
	control           int
	// express holds the S3 Express rules; nil without such an endpoint.
	express *express
	// Served zone names, lower case and fully qualified.
	zoneS3, zoneDualstack, zoneAccessPoint, zoneDualstackAP, zoneControl string
}

func newRegion(name string) *region {
	z := func(k Kind) string { return ZoneName(k, name) + "." }
	return &region{
		zoneS3:           z(Buckets),
		zoneDualstack:    z(DualstackBuckets),
		zoneAccessPoint:  z(AccessPoints),
		zoneDualstackAP:  z(DualstackAccessPoints),
		dualstackAPs:     newRuleSet("access_points"),
		zoneControl:      z(Control),
		buckets:          newRuleSet("buckets"),
		dualstackBuckets: newRuleSet("buckets"),
		accessPoints:     newRuleSet("access_points"),
		apex:             -1,
		dualstackApex:    -1,
		control:          -1,
	}
}

// add folds endpoint i into the region; called in file order so that ties go
// to the first endpoint.
func (r *region) add(e *model.Endpoint, i int) {
	r.buckets.add(e.Buckets, i)
	r.accessPoints.add(e.AccessPoints, i)
	if e.Dualstack {
		r.dualstackBuckets.add(e.Buckets, i)
		r.dualstackAPs.add(e.AccessPoints, i)
	}
	if e.Control && r.control < 0 {
		r.control = i
	}
}

// finishApex picks the apex endpoint: an explicit path_style beats one
// implied by "*", then file order.
func (r *region) finishApex(endpoints []model.Endpoint, indexes []int) {
	pick := func(dualstack bool) (int, string) {
		for _, i := range indexes {
			if endpoints[i].PathStyle && (!dualstack || endpoints[i].Dualstack) {
				return i, "path_style: true"
			}
		}
		for _, i := range indexes {
			if endpoints[i].ServesApex() && (!dualstack || endpoints[i].Dualstack) {
				return i, `buckets: "*" (implies path_style)`
			}
		}
		return -1, ""
	}
	r.apex, r.apexRule = pick(false)
	r.dualstackApex, r.dualstackApexRule = pick(true)
}
