package zones

import (
	"fmt"
	"path"

	"github.com/s3dns/s3dns/config"
)

// Precedence classes: an exact name beats a glob, a glob beats "*".
const (
	classExact = iota
	classGlob
	classStar
)

type globRule struct {
	pattern  string
	endpoint int
}

// ruleSet holds one kind of pattern (buckets or access points) of the
// endpoints of one region, indexed for precedence.
type ruleSet struct {
	kind  string // "buckets" or "access_points", for explanations
	exact map[string]int
	globs []globRule
	star  int // first endpoint with "*", -1 for none
}

func newRuleSet(kind string) *ruleSet {
	return &ruleSet{kind: kind, exact: map[string]int{}, star: -1}
}

func (r *ruleSet) add(patterns []string, endpoint int) {
	for _, p := range patterns {
		switch {
		case p == "*":
			if r.star < 0 {
				r.star = endpoint
			}
		case config.IsGlob(p):
			r.globs = append(r.globs, globRule{p, endpoint})
		default:
			if _, dup := r.exact[p]; !dup {
				r.exact[p] = endpoint
			}
		}
	}
}

// match returns the endpoint index for name and the rule that chose it.
func (r *ruleSet) match(name string) (int, string, bool) {
	if i, ok := r.exact[name]; ok {
		return i, fmt.Sprintf("%s: %q (exact)", r.kind, name), true
	}
	for _, g := range r.globs {
		if ok, _ := path.Match(g.pattern, name); ok {
			return g.endpoint, fmt.Sprintf("%s: %q (glob)", r.kind, g.pattern), true
		}
	}
	if r.star >= 0 {
		return r.star, fmt.Sprintf(`%s: "*"`, r.kind), true
	}
	return 0, "", false
}

// region holds the rules of every endpoint serving one region.
type region struct {
	buckets           *ruleSet
	dualstackBuckets  *ruleSet
	accessPoints      *ruleSet
	apex              int // -1: path_style apex not served
	apexRule          string
	dualstackApex     int
	dualstackApexRule string
	control           int
}

func newRegion() *region {
	return &region{
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
func (r *region) add(e *config.Endpoint, i int) {
	r.buckets.add(e.Buckets, i)
	r.accessPoints.add(e.AccessPoints, i)
	if e.Dualstack {
		r.dualstackBuckets.add(e.Buckets, i)
	}
	if e.Control && r.control < 0 {
		r.control = i
	}
}

// finishApex picks the apex endpoint: an explicit path_style beats one
// implied by "*", then file order.
func (r *region) finishApex(endpoints []config.Endpoint, indexes []int) {
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
