package config

import (
	"os"
	"sort"
	"strings"
)

// closest is the known key nearest to key (at most a third of its letters
// apart, at least 2 allowed), "" when none is near: what a typo meant.
func closest(key string, known []string) string {
	best, bestDist := "", max(2, len(key)/3)+1
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// didYouMean is the suffix of an "unknown key" error.
func didYouMean(key string, known []string) string {
	if c := closest(key, known); c != "" {
		return " (did you mean `" + c + "`?)"
	}
	return ""
}

// envPrefix starts every environment variable s3dns reads.
const envPrefix = "S3DNS_"

// warnUnknownEnv warns about S3DNS_* variables that set no key: a typo in a
// container's environment would otherwise be silently ignored.
func warnUnknownEnv(p *problems, environ []string) {
	known := map[string]bool{}
	var names []string
	for k := range defaults {
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		known[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix) && !known[name] {
			p.warnf(name, "environment variable sets no configuration key; it is ignored%s", didYouMean(name, names))
		}
	}
}

// environ is the process environment (a variable so that tests need not
// change the real one).
var environ = os.Environ
