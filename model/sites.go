package model

import (
	"net/netip"
	"slices"
)

// Site is a group of clients with its own policy: which endpoints serve
// it, with which names, and the Availability Zone whose zonal hostnames
// answer it.
type Site struct {
	Name    string
	Clients []netip.Prefix
	// ClientNames match a verified TLS client certificate's DNS names (or
	// its common name): the site of an authenticated client, whatever
	// address it comes from (DoT and DoH with tls.client_ca_file).
	ClientNames []string
	// Zone is the AZ (name) whose zonal hostname answers matched names
	// while one of its addresses is up; "" answers with the regional one.
	Zone string
	// Public forwards everything: no endpoint serves the site.
	Public bool
	// Endpoints, when not nil, are the only endpoints that serve the site,
	// each with its overrides.
	Endpoints []SiteEndpoint
}

// SiteEndpoint is one endpoint serving a site; nil fields keep the
// endpoint's own values.
type SiteEndpoint struct {
	Name         string
	Buckets      []string
	AccessPoints []string
	Control      *bool
	Zone         string
}

// SiteOf finds the first site whose clients hold addr: its index in Sites
// and the index of the prefix that holds it; ok is false for none. It
// allocates nothing (the server asks it for every query).
func (c *Config) SiteOf(addr netip.Addr) (site, prefix int, ok bool) {
	addr = addr.Unmap().WithZone("")
	for i := range c.Sites {
		for j, p := range c.Sites[i].Clients {
			if p.Contains(addr) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// SiteNamed finds the first site one of names (a verified client
// certificate's, lower case) is listed in; ok is false for none.
func (c *Config) SiteNamed(names []string) (site int, ok bool) {
	for i := range c.Sites {
		for _, n := range names {
			if slices.Contains(c.Sites[i].ClientNames, n) {
				return i, true
			}
		}
	}
	return 0, false
}

// Holds reports whether one of prefixes holds addr (in any form: mapped,
// with a zone).
func Holds(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// EndpointsFor is the endpoint list as site sees it, index for index with
// c.Endpoints: an endpoint that does not serve the site answers no names;
// the others carry the site's overrides and Zone.
func (c *Config) EndpointsFor(site *Site) []Endpoint {
	out := slices.Clone(c.Endpoints)
	for i := range out {
		e := &out[i]
		var ov *SiteEndpoint
		for j := range site.Endpoints {
			if site.Endpoints[j].Name == e.Name {
				ov = &site.Endpoints[j]
			}
		}
		if site.Public || (site.Endpoints != nil && ov == nil) {
			e.Buckets, e.AccessPoints, e.Names = nil, nil, nil
			e.Control, e.PathStyle, e.Dualstack = false, false, false
			continue
		}
		e.Zone = site.Zone
		if ov == nil {
			continue
		}
		if ov.Buckets != nil {
			e.Buckets = ov.Buckets
		}
		if ov.AccessPoints != nil {
			e.AccessPoints = ov.AccessPoints
		}
		if ov.Control != nil {
			e.Control = *ov.Control
		}
		if ov.Zone != "" {
			e.Zone = ov.Zone
		}
	}
	return out
}

// MaxSites keeps a site's number in a byte of the answer key.
const MaxSites = 255
