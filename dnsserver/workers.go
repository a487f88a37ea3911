package dnsserver

import (
	"context"
	"sync/atomic"
)

// maxIdleWorkers bounds the full-path goroutines kept waiting for work.
const maxIdleWorkers = 256

// workers run full-path queries. A goroutine that finished one waits for the
// next instead of exiting: a new goroutine starts on a small stack and
// copies it, bigger, several times on the way down to an upstream exchange
// (a twentieth of a miss's CPU), while a kept one has its stack grown
// already. At most maxIdleWorkers wait; the rest exit, and every waiting
// one exits when ctx ends (the server's shutdown).
type workers struct {
	ctx  context.Context
	jobs chan func() // unbuffered: a send succeeds only when a worker waits
	idle atomic.Int32
}

func newWorkers(ctx context.Context) *workers {
	return &workers{ctx: ctx, jobs: make(chan func())}
}

// run runs fn on a waiting worker, or on a new one.
func (w *workers) run(fn func()) {
	select {
	case w.jobs <- fn:
	default:
		go w.work(fn)
	}
}

func (w *workers) work(fn func()) {
	for {
		fn()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		select {
		case fn = <-w.jobs:
			w.idle.Add(-1)
		case <-w.ctx.Done():
			w.idle.Add(-1)
			return
		}
	}
}
