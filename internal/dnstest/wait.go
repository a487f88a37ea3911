package dnstest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, failing the test after within: a wait
// on a condition instead of a fixed sleep.
func WaitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
