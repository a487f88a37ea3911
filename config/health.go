package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/s3dns/s3dns/model"
)

var healthDefaults = map[string]string{"interval": "5s", "timeout": "1s", "port": "443", "fall": "3", "rise": "2"}

// healthCheck reads an endpoint's health mapping: absent or empty means
// off; any key turns probing on, the others taking their defaults.
func healthCheck(p *problems, key string, raw map[string]any) *model.HealthCheck {
	if len(raw) == 0 {
		return nil
	}
	v := map[string]string{}
	for k, d := range healthDefaults {
		v[k] = d
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lk := strings.ToLower(k)
		if _, known := healthDefaults[lk]; !known {
			p.errorf(key+"."+k, "unknown key (health takes interval, timeout, port, fall, rise)")
			continue
		}
		v[lk] = fmt.Sprint(raw[k])
	}
	h := &model.HealthCheck{
		Interval: duration(p, key+".interval", v["interval"], 100*time.Millisecond),
		Timeout:  duration(p, key+".timeout", v["timeout"], 10*time.Millisecond),
		Port:     wholeNumber(p, key+".port", v["port"], 1, 65535),
		Fall:     wholeNumber(p, key+".fall", v["fall"], 1, 100),
		Rise:     wholeNumber(p, key+".rise", v["rise"], 1, 100),
	}
	if h.Timeout > h.Interval && h.Interval > 0 {
		p.errorf(key+".timeout", "%q is longer than the interval (%s)", v["timeout"], v["interval"])
	}
	return h
}

func wholeNumber(p *problems, key, s string, lo, hi int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		p.errorf(key, "%q is not a whole number", s)
	case n < lo || n > hi:
		p.errorf(key, "%d is not between %d and %d", n, lo, hi)
	}
	return n
}

func onUnhealthy(p *problems, key, s string, h *model.HealthCheck) string {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case model.UnhealthyKeep, model.UnhealthyPublic, model.UnhealthyServfail:
	default:
		p.errorf(key, "%q is not one of keep, public, servfail", s)
	}
	if h == nil && v != model.UnhealthyKeep {
		p.warnf(key, "%q has no effect without health", s)
	}
	return v
}
