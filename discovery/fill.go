package discovery

import (
	"maps"
	"slices"

	"github.com/s3dns/s3dns/model"
)

// Fill returns cfg with what discovery found filled in where the file is
// silent: the hostname, the addresses, the zonal hostnames of AZs it does
// not name. cfg itself is not changed; without anything to fill it is
// returned as it is.
func Fill(cfg *model.Config, found map[string]Endpoint) *model.Config {
	if len(found) == 0 {
		return cfg
	}
	out := *cfg
	out.Endpoints = slices.Clone(cfg.Endpoints)
	for i := range out.Endpoints {
		e := &out.Endpoints[i]
		d, ok := found[e.VPCEndpointID]
		if e.VPCEndpointID == "" || !ok {
			continue
		}
		if e.Hostname == "" && d.Hostname != "" {
			e.Hostname = model.Fqdn(d.Hostname)
		}
		if len(e.Addresses) == 0 {
			e.Addresses = slices.Clone(d.Addresses)
		}
		zonal := maps.Clone(e.ZonalHostnames)
		for az, host := range d.ZonalHostnames {
			if _, given := zonal[az]; !given {
				if zonal == nil {
					zonal = map[string]string{}
				}
				zonal[az] = model.Fqdn(host)
			}
		}
		e.ZonalHostnames = zonal
		if e.ZoneIDs == nil {
			e.ZoneIDs = d.ZoneIDs
		}
	}
	return &out
}
