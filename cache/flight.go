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

// flight is one fetch in progress and who waits for it.
type flight struct {
	waiters []chan flightResult
}

// flightResult is a fetch's outcome as each waiter gets it; shared says
// other waiters got the same value.
type flightResult struct {
	val    any
	err    error
	shared bool
}

// maxIdleFetchers bounds the fetch goroutines kept waiting for work.
const maxIdleFetchers = 256

func newFlights(ctx context.Context) *flights {
	return &flights{calls: map[string]*flight{}, pool: workers.New(ctx, maxIdleFetchers)}
}

// do returns a channel that gets fetch's result: its own run's, when no
// fetch for key is in progress, else that one's. fetch must not panic.
func (f *flights) do(key string, fetch func() (any, error)) <-chan flightResult {
	ch := make(chan flightResult, 1)
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		c.waiters = append(c.waiters, ch)
		f.mu.Unlock()
		return ch
	}
	c := &flight{waiters: []chan flightResult{ch}}
	f.calls[key] = c
	f.mu.Unlock()
	f.pool.Run(func() {
		v, err := fetch()
		f.mu.Lock()
		delete(f.calls, key)
		waiters := c.waiters
		f.mu.Unlock()
		for _, w := range waiters {
			w <- flightResult{val: v, err: err, shared: len(waiters) > 1}
		}
	})
	return ch
}
