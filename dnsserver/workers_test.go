package dnsserver

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s: a bound against hangs, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Workers that finished wait for the next job, at most maxIdleWorkers of
// them; a job goes to a waiting one; cancelling the context ends them all.
func TestWorkersKeptAndEnded(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorkers(ctx)

	const burst = maxIdleWorkers + 44
	release := make(chan struct{})
	var done sync.WaitGroup
	for range burst {
		done.Add(1)
		w.run(func() { <-release; done.Done() })
	}
	close(release)
	done.Wait()
	waitFor(t, "the burst's workers to wait or exit", func() bool {
		return w.idle.Load() == maxIdleWorkers && runtime.NumGoroutine() <= before+maxIdleWorkers
	})

	hold := make(chan struct{})
	w.run(func() { <-hold })
	waitFor(t, "a waiting worker to take the job", func() bool { return w.idle.Load() == maxIdleWorkers-1 })
	if n := runtime.NumGoroutine(); n > before+maxIdleWorkers {
		t.Fatalf("%d goroutines: the job started a new one instead of taking a waiting worker", n-before)
	}
	close(hold)
	waitFor(t, "the worker to wait again", func() bool { return w.idle.Load() == maxIdleWorkers })

	cancel()
	waitFor(t, "every worker to end", func() bool { return w.idle.Load() == 0 && runtime.NumGoroutine() <= before })
}
