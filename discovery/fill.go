package discovery

import (
	"maps"
	"slices"
	"time"

	"github.com/s3dns/s3dns/model"
)

// FillFromStateFile is cfg filled from its discovery.state_file, for the
// commands that read the configuration without asking EC2 (explain), and
// when that data was found; cfg as it is without a state file.
func FillFromStateFile(cfg *model.Config) (*model.Config, time.Time, error) {
	if cfg.Discovery.StateFile == "" {
		return cfg, time.Time{}, nil
	}
	saved, err := readState(cfg.Discovery.StateFile)
	if err != nil {
		return cfg, time.Time{}, err
	}
	found := map[string]Endpoint{}
	var oldest time.Time
	for _, e := range cfg.Endpoints {
		s, ok := saved[e.VPCEndpointID]
		if e.VPCEndpointID == "" || !ok || s.Endpoint.Service != e.Service {
			continue
		}
		found[e.VPCEndpointID] = s.Endpoint
		if oldest.IsZero() || s.DiscoveredAt.Before(oldest) {
			oldest = s.DiscoveredAt
		}
	}
	return Fill(cfg, found), oldest, nil
}

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
		if d.VPCRegion != e.Region {
			e.VPCRegion = d.VPCRegion
		}
	}
	return &out
}
