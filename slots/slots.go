// Package slots caps how many of something run at once, failing fast when
// every slot is taken: under overload a quick refusal beats a queue that
// only turns load into timeouts. The server's full path and the upstream
// forwarder both use it.
package slots

// Slots is a fixed number of slots.
type Slots chan struct{}

// New returns n slots.
func New(n int) Slots { return make(Slots, n) }

// TryTake takes a slot, or reports false at once when none is free.
func (s Slots) TryTake() bool {
	select {
	case s <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot taken by TryTake.
func (s Slots) Release() { <-s }
