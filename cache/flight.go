package cache

import (
	"context"
	"sync"

	"github.com/s3dns/s3dns/workers"
)

// flights coalesce identical misses, as golang.org/x/sync/singleflight's
// DoChan does, with one difference that matters on the full path: the
// shared fetch runs on a kept worker (package workers), not on a goroutine
// of its own that grows its stack on the way down to the upstream.
type flights struct {
	mu    sync.Mutex
	calls map[string]*flight
	pool  *workers.Pool
}

// flight is one fetch in progress: its waiters wait for done, then read
// its outcome.
type flight struct {
	done   chan struct{}
	val    any
	err    error
	dups   int // waiters beyond the first
	shared bool
}

// maxIdleFetchers bounds the fetch goroutines kept waiting for work.
const maxIdleFetchers = 256

func newFlights(ctx context.Context) *flights {
	return &flights{calls: map[string]*flight{}, pool: workers.New(ctx, maxIdleFetchers)}
}

// do returns the flight fetching key: a new one running fetch, when none
// is in progress, else that one. fetch must not panic.
func (f *flights) do(key string, fetch func() (any, error)) *flight {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		c.dups++
		f.mu.Unlock()
		return c
	}
	c := &flight{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	f.pool.Run(func() {
		c.val, c.err = fetch()
		f.mu.Lock()
		delete(f.calls, key)
		c.shared = c.dups > 0 // no waiter joins once it is out of the map
		f.mu.Unlock()
		close(c.done)
	})
	return c
}
