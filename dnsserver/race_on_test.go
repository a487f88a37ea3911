//go:build race

package dnsserver

// raceDetector: the race detector's instrumentation changes what the
// standard library allocates (crypto/tls in particular).
const raceDetector = true
