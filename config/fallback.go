package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// fallbacks resolves each endpoint's fallback names to places: an
// endpoint of the same service and region (a cross-Region endpoint for the
// in-region one, say), never itself, each once. A fallback is only useful
// behind health checks, which say when every address is down.
func fallbacks(p *problems, endpoints []model.Endpoint, raw []rawEndpoint, keys []string) {
	byName := map[string]int{}
	for i, e := range endpoints {
		byName[e.Name] = i
	}
	for i := range endpoints {
		e := &endpoints[i]
		for j, name := range raw[i].Fallback {
			k := fmt.Sprintf("%s.fallback[%d]", keys[i], j)
			name = strings.TrimSpace(name)
			f, ok := byName[name]
			switch {
			case !ok:
				p.errorf(k, "%q is not the name of an endpoint", name)
			case f == i:
				p.errorf(k, "%q is this endpoint itself", name)
			case endpoints[f].Service != e.Service || endpoints[f].Region != e.Region:
				p.errorf(k, "%q serves %s in %s, not %s in %s: a fallback answers the same names", name,
					endpoints[f].Service, endpoints[f].Region, e.Service, e.Region)
			case slices.Contains(e.FallbackIndexes, f):
				p.errorf(k, "%q is listed twice", name)
			default:
				e.Fallback = append(e.Fallback, name)
				e.FallbackIndexes = append(e.FallbackIndexes, f)
			}
		}
		if len(e.Fallback) > 0 && e.Health == nil {
			p.warnf(keys[i]+".fallback", "is used only while every address is down, which only health checks tell: set health")
		}
	}
}
