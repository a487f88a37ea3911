package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// checkKeys reports every key that is not part of the configuration, and
// sections of the wrong shape, naming each by its full path.
func checkKeys(p *problems, settings map[string]any) {
	top := map[string]map[string]bool{}
	for k := range defaults {
		section, sub, nested := strings.Cut(k, ".")
		if _, ok := top[section]; !ok {
			top[section] = nil
		}
		if nested {
			if top[section] == nil {
				top[section] = map[string]bool{}
			}
			top[section][sub] = true
		}
	}
	topKeys := sortedKeys(top)
	for _, key := range sortedKeys(settings) {
		sub, known := top[key]
		switch {
		case !known:
			p.errorf(key, "unknown key%s", didYouMean(key, topKeys))
		case sub != nil:
			m, ok := settings[key].(map[string]any)
			if !ok {
				p.errorf(key, "must be a mapping, not %q", fmt.Sprint(settings[key]))
				continue
			}
			for _, k := range sortedKeys(m) {
				if !sub[k] {
					p.errorf(key+"."+k, "unknown key%s", didYouMean(k, sortedKeys(sub)))
				}
			}
		case key == "endpoints":
			checkListKeys(p, "endpoints", settings[key], sortedKeys(endpointDefaults), nil)
		case key == "sites":
			checkListKeys(p, "sites", settings[key], siteKeys, func(key string, m map[string]any) {
				if eps, ok := m["endpoints"]; ok {
					checkListKeys(p, key+".endpoints", eps, siteEndpointKeys, nil)
				}
			})
		}
	}
}

// checkListKeys checks a list of mappings (endpoints, sites) for unknown
// keys; nested, when set, checks each item further.
func checkListKeys(p *problems, name string, v any, known []string, nested func(key string, m map[string]any)) {
	list, ok := v.([]any)
	if !ok {
		p.errorf(name, "must be a list, not %q", fmt.Sprint(v))
		return
	}
	for i, item := range list {
		key := fmt.Sprintf("%s[%d]", name, i)
		m, ok := item.(map[string]any)
		if !ok {
			p.errorf(key, "must be a mapping, not %q", fmt.Sprint(item))
			continue
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, strings.ToLower(k)) {
				p.errorf(key+"."+k, "unknown key%s", didYouMean(strings.ToLower(k), known))
			}
		}
		if nested != nil {
			nested(key, m)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
