package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

var (
	siteKeys         = []string{"client_names", "clients", "endpoints", "name", "public", "zone"}
	siteEndpointKeys = []string{"access_points", "buckets", "control", "name", "zone"}
)

func sites(p *problems, raw []rawSite, endpoints []model.Endpoint) []model.Site {
	if len(raw) > model.MaxSites {
		p.errorf("sites", "%d sites: at most %d", len(raw), model.MaxSites)
		return nil
	}
	var out []model.Site
	names := map[string]int{}
	for i, r := range raw {
		key := fmt.Sprintf("sites[%d]", i)
		s := model.Site{Name: strings.ToLower(strings.TrimSpace(r.Name)), Public: r.Public}
		if s.Name == "" {
			p.errorf(key+".name", "is needed: the site's label in explain, validate and logs")
		} else {
			takeName(p, key+".name", r.Name, "sites", i, names)
		}
		if len(r.Clients) == 0 && len(r.ClientNames) == 0 {
			p.errorf(key+".clients", "at least one CIDR prefix (or, under client_names, a client certificate's name) is needed")
		}
		s.Clients = prefixList(p, key+".clients", r.Clients)
		for j, n := range r.ClientNames {
			name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
			if problem := HostnameProblem(name); problem != "" {
				p.errorf(fmt.Sprintf("%s.client_names[%d]", key, j), "%q is not a certificate's DNS name: %s", n, problem)
				continue
			}
			s.ClientNames = append(s.ClientNames, name)
		}
		s.Zone = siteZone(p, key+".zone", r.Zone)
		if r.Public && len(r.Endpoints) > 0 {
			p.errorf(key+".endpoints", "a public site is served by no endpoint: give public or endpoints, not both")
		}
		if r.Endpoints != nil {
			s.Endpoints = []model.SiteEndpoint{}
		}
		for j, re := range r.Endpoints {
			s.Endpoints = append(s.Endpoints, siteEndpoint(p, fmt.Sprintf("%s.endpoints[%d]", key, j), re, endpoints, s.Endpoints))
		}
		out = append(out, s)
	}
	warnShadowedSites(p, out)
	return out
}

// siteZone checks an AZ name (eu-west-2a) or id (euw2-az1). Zonal
// hostnames are listed by name; an id is turned into the name through the
// endpoint's network interfaces, which discovery reads.
func siteZone(p *problems, key, raw string) string {
	zone := strings.ToLower(strings.TrimSpace(raw))
	if zone != "" && !ValidAvailabilityZone(zone) && !ValidAvailabilityZoneID(zone) {
		p.errorf(key, "%q is not an Availability Zone name (like eu-west-2a) or id (like euw2-az1)", raw)
		return ""
	}
	return zone
}

func siteEndpoint(p *problems, key string, r rawSiteEndpoint, endpoints []model.Endpoint, taken []model.SiteEndpoint) model.SiteEndpoint {
	se := model.SiteEndpoint{Name: strings.ToLower(strings.TrimSpace(r.Name)), Control: r.Control, Zone: siteZone(p, key+".zone", r.Zone)}
	idx := slices.IndexFunc(endpoints, func(e model.Endpoint) bool { return e.Name == se.Name })
	if idx < 0 {
		var known []string
		for _, e := range endpoints {
			known = append(known, e.Name)
		}
		p.errorf(key+".name", "%q is not the name of an endpoint%s", r.Name, didYouMean(se.Name, known))
		return se
	}
	if slices.ContainsFunc(taken, func(o model.SiteEndpoint) bool { return o.Name == se.Name }) {
		p.errorf(key+".name", "%q is listed twice", r.Name)
	}
	if e := endpoints[idx]; e.Service != model.ServiceS3 {
		s3Only(p, key, e.Service, map[string]bool{"buckets": r.Buckets != nil, "access_points": r.AccessPoints != nil, "control": r.Control != nil})
	}
	if r.Buckets != nil {
		se.Buckets = patterns(p, key+".buckets", *r.Buckets, validBucket, "bucket name ("+bucketRule+")")
		if se.Buckets == nil {
			se.Buckets = []string{}
		}
	}
	if r.AccessPoints != nil {
		se.AccessPoints = patterns(p, key+".access_points", *r.AccessPoints, validAccessPoint, `access point ("<name>-<12 digit account id>")`)
		if se.AccessPoints == nil {
			se.AccessPoints = []string{}
		}
	}
	return se
}

// warnShadowedSites warns about a client prefix that an earlier site's
// prefix holds: its clients always belong to the earlier site.
func warnShadowedSites(p *problems, sites []model.Site) {
	for i, s := range sites {
		for j, prefix := range s.Clients {
			for _, earlier := range sites[:i] {
				for _, e := range earlier.Clients {
					if e.Bits() <= prefix.Bits() && e.Contains(prefix.Addr()) {
						p.warnf(fmt.Sprintf("sites[%d].clients[%d]", i, j), "%s lies within %s of site %q, listed first: its clients belong to %q", prefix, e, earlier.Name, earlier.Name)
					}
				}
			}
		}
	}
}

// warnZonesWithoutNames warns about a site zone that no endpoint serving
// the site has a zonal hostname for (and none is discovered).
func warnZonesWithoutNames(p *problems, cfg *model.Config) {
	for i := range cfg.Sites {
		site := &cfg.Sites[i]
		for _, e := range cfg.EndpointsFor(site) {
			if e.Zone == "" || e.VPCEndpointID != "" || !servesNames(&e) {
				continue
			}
			if _, ok := e.ZonalHostname(); !ok {
				p.warnf(fmt.Sprintf("sites[%d]", i), "endpoint %q has no zonal hostname for %s (zonal_hostnames, or discovery with vpc_endpoint_id): it answers site %q with its regional hostname", e.Name, e.Zone, site.Name)
			}
		}
	}
}

func servesNames(e *model.Endpoint) bool {
	return len(e.Buckets)+len(e.AccessPoints)+len(e.Names) > 0 || e.Control || e.PathStyle
}
