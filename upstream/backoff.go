package upstream

import (
	"sync"
	"time"
)

// Back-off: after failThreshold failures in a row an upstream is skipped
// for a back-off that doubles up to maxBackoff; when it runs out the next
// query probes it, and one success makes it usable again. (Endpoint health,
// package health, is another thing: probes of the private path.)
const (
	failThreshold = 3
	minBackoff    = 2 * time.Second
	maxBackoff    = 30 * time.Second
)

type backoff struct {
	mu        sync.Mutex
	fails     int
	backoff   time.Duration
	downUntil time.Time
}

func (h *backoff) usable(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !now.Before(h.downUntil)
}

func (h *backoff) success() {
	h.mu.Lock()
	h.fails, h.backoff, h.downUntil = 0, 0, time.Time{}
	h.mu.Unlock()
}

// failure records a failed attempt and reports whether it marked the
// upstream down.
func (h *backoff) failure(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails++
	if h.fails < failThreshold {
		return false
	}
	if h.backoff == 0 {
		h.backoff = minBackoff
	} else {
		h.backoff = min(2*h.backoff, maxBackoff)
	}
	h.downUntil = now.Add(h.backoff)
	return true
}
