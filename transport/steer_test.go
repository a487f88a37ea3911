package transport

import (
	"testing"
	"time"
)

func TestNextSpread(t *testing.T) {
	const ms = time.Millisecond
	for _, c := range []struct {
		spread                 bool
		total, busiest, window time.Duration
		want                   bool
	}{
		{false, 4 * ms, 4 * ms, 10 * ms, false}, // one reader, 40 % busy: it keeps them
		{false, 6 * ms, 6 * ms, 10 * ms, true},  // over half: spread
		{false, 9 * ms, 5 * ms, 10 * ms, false}, // the busiest decides, not the sum
		{true, 300 * ms, 200 * ms, 1000 * ms, true},
		{true, 240 * ms, 200 * ms, 1000 * ms, false}, // together under a quarter: gather
		{true, 0, 0, 0, true},                        // no window: as it was
	} {
		if got := nextSpread(c.spread, c.total, c.busiest, c.window); got != c.want {
			t.Errorf("nextSpread(%v, %v, %v, %v) = %v, want %v", c.spread, c.total, c.busiest, c.window, got, c.want)
		}
	}
}
