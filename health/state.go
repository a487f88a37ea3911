// Package health probes the addresses of interface endpoints from the host
// s3dns runs on (a TCP connection to the endpoint's port, usually 443), so
// that answers can leave out the addresses the private path cannot reach.
package health

import "time"

// addrState is one address's up/down state: down after fall failed probes
// in a row, up again after rise successes. Every address starts up, so
// that nothing changes until probes have spoken.
type addrState struct {
	up         bool
	fails      int // consecutive failures while up
	successes  int // consecutive successes while down
	lastChange time.Time
	lastError  string
}

func newAddrState(now time.Time) *addrState {
	return &addrState{up: true, lastChange: now}
}

// record folds one probe result in and reports whether the state changed.
func (s *addrState) record(err error, fall, rise int, now time.Time) bool {
	if err != nil {
		s.lastError = err.Error()
		s.successes = 0
		if !s.up {
			return false
		}
		if s.fails++; s.fails >= fall {
			s.up, s.fails, s.lastChange = false, 0, now
			return true
		}
		return false
	}
	s.fails = 0
	s.lastError = "" // a good probe: an old error would read as the state now
	if s.up {
		return false
	}
	if s.successes++; s.successes >= rise {
		s.up, s.successes, s.lastChange = true, 0, now
		return true
	}
	return false
}
