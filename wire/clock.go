package wire

import "time"

// Clock is the time every packed answer is stored and judged by, in
// nanoseconds since the clock was made. It is monotonic: with time.Now
// both readings carry Go's monotonic clock, so a wall-clock step (NTP, an
// operator's date -s) neither freezes nor expires entries. The cache and
// the server's fast path must share one Clock.
type Clock struct {
	now    func() time.Time
	origin time.Time
}

// NewClock returns a clock reading now (time.Now when nil).
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now, origin: now()}
}

// Nano is the time since the clock was made.
func (c *Clock) Nano() int64 { return int64(c.now().Sub(c.origin)) }
