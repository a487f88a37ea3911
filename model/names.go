package model

import "strings"

// IsGlob reports whether a bucket or access point pattern uses shell glob syntax.
func IsGlob(p string) bool { return strings.ContainsAny(p, `*?[`) }

// Fqdn is host in lower case with one final dot.
func Fqdn(host string) string { return strings.ToLower(strings.TrimSuffix(host, ".")) + "." }
