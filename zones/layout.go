package zones

import (
	"strings"

	"github.com/s3dns/s3dns/model"
)

// The S3 name layout, spelled out once: every package that builds or
// lists S3 names (matching, export, RPZ, the validate summary, loop
// probes) takes them from here.

// Kind is one kind of S3 name an interface endpoint serves.
type Kind int

const (
	Buckets               Kind = iota // B.s3.R.amazonaws.com and the apex s3.R.amazonaws.com
	DualstackBuckets                  // B.s3.dualstack.R.amazonaws.com and its apex
	AccessPoints                      // AP.s3-accesspoint.R.amazonaws.com
	Control                           // ACCOUNT.s3-control.R.amazonaws.com and s3-control.R.amazonaws.com
	DualstackAccessPoints             // AP.s3-accesspoint.dualstack.R.amazonaws.com
)

var kindService = [...]string{Buckets: "s3", DualstackBuckets: "s3.dualstack", AccessPoints: "s3-accesspoint",
	Control: "s3-control", DualstackAccessPoints: "s3-accesspoint.dualstack"}

// ZoneName is the zone holding names of kind k in region, in lower case
// without the final dot: "s3.eu-west-2.amazonaws.com".
func ZoneName(k Kind, region string) string {
	region = strings.ToLower(region)
	return kindService[k] + "." + region + "." + model.DNSSuffix(region)
}

// Name is label (a bucket, access point or account) under the zone of
// kind k in region, without the final dot.
func Name(label string, k Kind, region string) string {
	return label + "." + ZoneName(k, region)
}

// BucketZones are the zones holding e's bucket names: the regional one, and
// the dualstack one with dualstack: true.
func BucketZones(e *model.Endpoint) []string {
	out := []string{ZoneName(Buckets, e.Region)}
	if e.Dualstack {
		out = append(out, ZoneName(DualstackBuckets, e.Region))
	}
	return out
}

// Kinds lists the kinds of S3 name e serves: buckets when it lists any or
// serves the apex, their dualstack forms with dualstack: true, access
// points when it lists any (and their dualstack forms), control with
// control: true. None for an endpoint of another service (S3 Express and
// Multi-Region Access Points have ExpressZones and MRAPZone).
func Kinds(e *model.Endpoint) []Kind {
	if e.Service != model.ServiceS3 && e.Service != "" {
		return nil
	}
	var out []Kind
	if len(e.Buckets) > 0 || e.PathStyle {
		out = append(out, Buckets)
		if e.Dualstack {
			out = append(out, DualstackBuckets)
		}
	}
	if len(e.AccessPoints) > 0 {
		out = append(out, AccessPoints)
		if e.Dualstack {
			out = append(out, DualstackAccessPoints)
		}
	}
	if e.Control {
		out = append(out, Control)
	}
	return out
}

// ServiceZones are the zones holding the names of an endpoint for another
// service than S3: each exact name, and the part after a leading "*.".
func ServiceZones(e *model.Endpoint) []string {
	var out []string
	for _, n := range e.Names {
		out = append(out, strings.TrimPrefix(n, "*."))
	}
	return out
}

// Serves reports whether qname (lower case, final dot optional) lies in a
// zone some endpoint serves: there s3dns is the authority, and answers even
// queries without RD (a resolver may use it as a stub for these zones).
func (m *Matcher) Serves(qname string) bool {
	name := strings.TrimSuffix(lower(qname), ".")
	if m.servesExpress(name) {
		return true
	}
	for {
		if m.zones[name] {
			return true
		}
		dot := strings.IndexByte(name, '.')
		if dot < 0 {
			return false
		}
		name = name[dot+1:]
	}
}

// servesExpress reports whether name is an S3 Express name of a region with
// an S3 Express endpoint: its zone ids are not all known in advance.
func (m *Matcher) servesExpress(name string) bool {
	rest, _, ok := cutPartitionSuffix(name)
	if !ok {
		return false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return false
	}
	r := m.regions[rest[dot+1:]]
	return r != nil && r.express != nil && isExpress(rest[:dot])
}
