package cache

import (
	"sync/atomic"

	"github.com/maypok86/otter/v2"

	"github.com/s3dns/s3dns/wire"
)

// Answer is a packed answer and where it came from.
type Answer struct {
	wire.Entry
	Upstream string
	// HealthGen is the endpoint health generation an endpoint answer was
	// built under: after any address goes up or down it is not served.
	HealthGen uint64
	// recheckAt: until then a failed refresh is not retried and the stale
	// answer is served at once (RFC 8767 §5, failure recheck timer).
	recheckAt atomic.Int64
}

// Store holds packed answers by question, bounded: the cache's forwarded
// answers and the server's endpoint answers alike. The fast path reads it
// without allocating.
type Store struct {
	m *otter.Cache[uint64, *Answer]
}

// NewStore holds at most max answers.
func NewStore(max int) *Store {
	return &Store{m: otter.Must(&otter.Options[uint64, *Answer]{MaximumSize: max})}
}

// Fresh returns the answer to this question that is still fresh at now, or nil.
func (s *Store) Fresh(key uint64, lname []byte, qtype, qclass uint16, o wire.Opts, now int64) *Answer {
	a, ok := s.m.GetIfPresent(key)
	if !ok || !a.FreshFor(lname, qtype, qclass, o, now) {
		return nil
	}
	return a
}

// Get returns the answer to this question, fresh or not, or nil.
func (s *Store) Get(key uint64, lname []byte, qtype, qclass uint16, o wire.Opts) *Answer {
	a, ok := s.m.GetIfPresent(key)
	if !ok || !a.Matches(lname, qtype, qclass, o) {
		return nil
	}
	return a
}

// Set keeps a.
func (s *Store) Set(key uint64, a *Answer) { s.m.Set(key, a) }

// Len is the number of answers held.
func (s *Store) Len() int { return s.m.EstimatedSize() }

// cleanUp runs pending evictions (for memory measurements).
func (s *Store) cleanUp() { s.m.CleanUp() }
