package model

import "time"

// HealthCheck says how an endpoint's addresses are probed: a TCP connection
// to Port every Interval, within Timeout; an address is down after Fall
// failures in a row and up again after Rise successes.
type HealthCheck struct {
	Interval time.Duration
	Timeout  time.Duration
	Port     int
	Fall     int
	Rise     int
}

// What on_unhealthy does when no address of an endpoint is up.
const (
	UnhealthyKeep     = "keep"     // answer as without health checks
	UnhealthyPublic   = "public"   // forward as if not listed (fail open)
	UnhealthyServfail = "servfail" // fail closed
)
