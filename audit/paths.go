package audit

import (
	"regexp"
	"strings"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// route is one way a site's clients reach a bucket, as DNS decides it.
type route struct {
	site     string          // "" for the top-level policy
	public   bool            // the site is public: true
	endpoint *model.Endpoint // nil: the public path
	// while says when this route is taken, "" always: a fallback endpoint
	// or on_unhealthy: public take over while the endpoint has no address up.
	while string
}

// when is " while …" for a route taken only then, else "".
func (r route) when() string {
	if r.while == "" {
		return ""
	}
	return " " + r.while
}

// view is one policy DNS applies: the top-level one or a site's.
type view struct {
	site      string
	public    bool
	endpoints []model.Endpoint
	matcher   *zones.Matcher
}

// views are the top-level policy and each site's; only, when not "",
// keeps that site alone.
func views(cfg *model.Config, only string) []view {
	var out []view
	if only == "" {
		out = append(out, view{endpoints: cfg.Endpoints, matcher: zones.New(cfg.Endpoints)})
	}
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		if only != "" && s.Name != only {
			continue
		}
		eps := cfg.EndpointsFor(s)
		out = append(out, view{site: s.Name, public: s.Public, endpoints: eps, matcher: zones.New(eps)})
	}
	return out
}

// routes lists how v's clients reach name: the endpoint that answers it
// (then its fallbacks, and the public path when on_unhealthy is public),
// or the public path.
func (v *view) routes(name string) []route {
	m, ok := v.matcher.Match(name)
	if v.public || !ok {
		return []route{{site: v.site, public: v.public}}
	}
	e := m.Endpoint
	out := []route{{site: v.site, endpoint: e}}
	down := "while " + e.Name + " has no address up"
	for _, i := range e.FallbackIndexes {
		out = append(out, route{site: v.site, endpoint: &v.endpoints[i], while: down})
	}
	if e.Health != nil && e.OnUnhealthy == model.UnresolvedPublic {
		out = append(out, route{site: v.site, while: down + " (on_unhealthy: public)"})
	}
	return out
}

// bucketName is the virtual-hosted name of bucket in region.
func bucketName(bucket, region string) string {
	return bucket + ".s3." + region + "." + model.DNSSuffix(region)
}

// accessPointName is the name of access point "<name>-<account>".
func accessPointName(ap, region string) string {
	return ap + ".s3-accesspoint." + region + "." + model.DNSSuffix(region)
}

// endpointID is the endpoint's id: given, or the first label of its
// hostname (vpce-<id>-<suffix>.s3.<region>.vpce.amazonaws.com).
func endpointID(e *model.Endpoint) string {
	if e.VPCEndpointID != "" {
		return e.VPCEndpointID
	}
	if m := hostnameID.FindStringSubmatch(e.Hostname); m != nil {
		return m[1]
	}
	return ""
}

var hostnameID = regexp.MustCompile(`^(vpce-[0-9a-f]+)-[0-9a-z]+\.`)

// isGlob reports whether a listed bucket or access point is a pattern.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// accessPointParts splits "<name>-<account id>" (as access_points lists
// them) into the name and the 12-digit account.
func accessPointParts(ap string) (name, account string, ok bool) {
	i := strings.LastIndexByte(ap, '-')
	if i <= 0 || len(ap)-i-1 != 12 || strings.Trim(ap[i+1:], "0123456789") != "" {
		return "", "", false
	}
	return ap[:i], ap[i+1:], true
}
