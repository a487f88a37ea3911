package cache

import (
	"sync/atomic"

	"github.com/maypok86/otter/v2"

	"github.com/s3dns/s3dns/wire"
)

// answer is a packed answer and where it came from.
type answer struct {
	wire.Entry
	upstream string
	// recheckAt: until then a failed refresh is not retried and the stale
	// answer is served at once (RFC 8767 §5, failure recheck timer).
	recheckAt atomic.Int64
}

// store holds packed answers by question, bounded. The fast path reads it
// without allocating.
type store struct {
	m *otter.Cache[uint64, *answer]
}

// newStore holds at most max answers.
func newStore(max int) *store {
	return &store{m: otter.Must(&otter.Options[uint64, *answer]{MaximumSize: max})}
}

// fresh returns the answer to this question that is still fresh at now, or nil.
func (s *store) fresh(key uint64, lname []byte, qtype, qclass uint16, o wire.Opts, now int64) *answer {
	a, ok := s.m.GetIfPresent(key)
	if !ok || !a.FreshFor(lname, qtype, qclass, o, now) {
		return nil
	}
	return a
}

// get returns the answer to this question, fresh or not, or nil.
func (s *store) get(key uint64, lname []byte, qtype, qclass uint16, o wire.Opts) *answer {
	a, ok := s.m.GetIfPresent(key)
	if !ok || !a.Matches(lname, qtype, qclass, o) {
		return nil
	}
	return a
}

// set keeps a.
func (s *store) set(key uint64, a *answer) { s.m.Set(key, a) }

// len is the number of answers held.
func (s *store) len() int { return s.m.EstimatedSize() }

// cleanUp runs pending evictions (for memory measurements).
func (s *store) cleanUp() { s.m.CleanUp() }
