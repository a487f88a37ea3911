package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// namePattern is what an endpoint name may be: a metric label value and a
// word in logs, so short, lower case, without spaces.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// nameEndpoints gives every endpoint its stable name: the one given, or
// <service>-<region>, suffixed -2, -3 … where that is taken. Given names
// are taken first, so that a default never takes a name the file gives.
func nameEndpoints(p *problems, endpoints []model.Endpoint, raw []rawEndpoint) {
	taken := map[string]int{}
	for i := range endpoints {
		if strings.TrimSpace(raw[i].Name) == "" {
			continue
		}
		if name, ok := takeName(p, fmt.Sprintf("endpoints[%d].name", i), raw[i].Name, "endpoints", i, taken); ok {
			endpoints[i].Name = name
		}
	}
	for i := range endpoints {
		if strings.TrimSpace(raw[i].Name) != "" {
			continue
		}
		base := endpoints[i].Service
		if endpoints[i].Region != "" { // a global service's has none
			base += "-" + endpoints[i].Region
		}
		name := base
		for n := 2; ; n++ {
			if _, dup := taken[name]; !dup {
				break
			}
			name = fmt.Sprintf("%s-%d", base, n)
		}
		taken[name] = i
		endpoints[i].Name = name
	}
}

// endpointKeys are the keys errors name each endpoint by: endpoints[NAME]
// for an endpoint with a valid name, endpoints[i] for one without.
func endpointKeys(raw []rawEndpoint) []string {
	keys := make([]string, len(raw))
	seen := map[string]bool{}
	for i, r := range raw {
		name := strings.ToLower(strings.TrimSpace(r.Name))
		if namePattern.MatchString(name) && !seen[name] {
			keys[i] = "endpoints[" + name + "]"
			seen[name] = true
		} else {
			keys[i] = fmt.Sprintf("endpoints[%d]", i)
		}
	}
	return keys
}

// takeName checks a given name (of list[i]) and takes it in taken, where
// names are unique; ok is false, with the error reported, when it is
// invalid or taken.
func takeName(p *problems, key, raw, list string, i int, taken map[string]int) (string, bool) {
	name := strings.ToLower(strings.TrimSpace(raw))
	switch first, dup := taken[name]; {
	case !namePattern.MatchString(name):
		p.errorf(key, "%q is not a valid name: 1–63 characters of lower-case letters, digits, dots, hyphens and underscores, starting with a letter or digit", raw)
	case dup:
		p.errorf(key, "%q is already the name of %s[%d]", raw, list, first)
	default:
		taken[name] = i
		return name, true
	}
	return "", false
}
