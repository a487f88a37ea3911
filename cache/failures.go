package cache

import (
	"context"
	"errors"
	"time"

	"github.com/maypok86/otter/v2"
)

// Resolution failures are remembered per question (RFC 9520 §3.2): for
// FailureMin after a first failure, doubling with each failure in a row up
// to FailureMax, so that a burst of queries for a failing name asks the
// upstreams once, not once per query.
const (
	FailureMin = time.Second
	FailureMax = 5 * time.Second
	// maxFailures bounds the questions remembered at once.
	maxFailures = 10_000
)

// ErrRecentFailure answers a question whose resolution failed a moment ago.
var ErrRecentFailure = errors.New("resolution failed a moment ago (RFC 9520): not asked again yet")

// failure is one question's recent resolution failure.
type failure struct {
	question string // groupKey: a hash collision never borrows another's failure
	until    int64  // clock nanoseconds
	streak   int    // failures in a row
}

// failures holds the recent failures by cache key.
type failures struct {
	m *otter.Cache[uint64, failure]
}

func newFailures() failures {
	return failures{m: otter.Must(&otter.Options[uint64, failure]{MaximumSize: maxFailures})}
}

// recent reports whether q failed so recently that it is not asked again.
func (f failures) recent(key uint64, q string, now int64) bool {
	v, ok := f.m.GetIfPresent(key)
	return ok && v.question == q && now < v.until
}

// note remembers a failed resolution of q at now. Local conditions (the
// server overloaded or stopping: an error with Local() true, as
// upstream.ErrOverloaded) say nothing about the name and are not kept.
func (f failures) note(key uint64, q string, now int64, err error) {
	var local interface{ Local() bool }
	if (errors.As(err, &local) && local.Local()) || errors.Is(err, context.Canceled) {
		return
	}
	streak := 1
	// A failure soon after the last one has ended continues the streak.
	if v, ok := f.m.GetIfPresent(key); ok && v.question == q && now < v.until+int64(FailureMax) {
		streak = v.streak + 1
	}
	hold := min(FailureMin<<min(streak-1, 8), FailureMax)
	f.m.Set(key, failure{question: q, until: now + int64(hold), streak: streak})
}

// clear forgets every recent failure (an operator's flush).
func (f failures) clear() { f.m.InvalidateAll() }

// forget ends q's streak after a good answer.
func (f failures) forget(key uint64) {
	if _, ok := f.m.GetIfPresent(key); ok {
		f.m.Invalidate(key)
	}
}
