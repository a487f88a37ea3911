package wire

import (
	"testing"
	"time"
)

// The cache's clock is monotonic: readings are durations since it was made
// (Go's monotonic clock with time.Now), not wall-clock instants that a step
// of the system clock would move.
func TestClockIsMonotonic(t *testing.T) {
	c := NewClock(nil)
	a := c.Nano()
	b := c.Nano()
	if a < 0 || b < a || time.Duration(a) > time.Minute {
		t.Fatalf("readings %d then %d: not time since the clock was made", a, b)
	}
}
