// Package workers keeps goroutines for work that goes deep. A new goroutine
// starts on a small stack and copies it, bigger, several times on the way
// down to an upstream exchange and the unpacking of its reply (a tenth of a
// miss's CPU in a profile); a goroutine that finished one such job and
// waits for the next has its stack grown already.
package workers

import (
	"context"
	"sync/atomic"
)

// Pool runs jobs on kept goroutines: at most maxIdle wait for work, the
// rest exit, and every waiting one exits when the pool's context ends.
type Pool struct {
	ctx     context.Context
	maxIdle int32
	jobs    chan func() // unbuffered: a send succeeds only when a worker waits
	idle    atomic.Int32
}

// New returns a pool whose workers live until ctx ends.
func New(ctx context.Context, maxIdle int) *Pool {
	return &Pool{ctx: ctx, maxIdle: int32(maxIdle), jobs: make(chan func())}
}

// Run runs fn on a waiting worker, or on a new one: it never waits.
func (p *Pool) Run(fn func()) {
	select {
	case p.jobs <- fn:
	default:
		go p.work(fn)
	}
}

// Idle is how many workers wait for a job now.
func (p *Pool) Idle() int { return int(p.idle.Load()) }

func (p *Pool) work(fn func()) {
	for {
		fn()
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		select {
		case fn = <-p.jobs:
			p.idle.Add(-1)
		case <-p.ctx.Done():
			p.idle.Add(-1)
			return
		}
	}
}
