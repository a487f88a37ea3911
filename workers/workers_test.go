package workers

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

const maxIdleWorkers = 256

// Workers that finished wait for the next job, at most maxIdle of them; a
// job goes to a waiting one; cancelling the context ends them all.
func TestWorkersKeptAndEnded(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := New(ctx, maxIdleWorkers)

	const burst = maxIdleWorkers + 44
	release := make(chan struct{})
	var done sync.WaitGroup
	for range burst {
		done.Add(1)
		w.Run(func() { <-release; done.Done() })
	}
	close(release)
	done.Wait()
	dnstest.WaitFor(t, "the burst's workers to wait or exit", 10*time.Second, func() bool {
		return w.Idle() == maxIdleWorkers && runtime.NumGoroutine() <= before+maxIdleWorkers
	})

	// A worker counts itself idle just before it waits: a job sent in
	// between starts a goroutine of its own (which then exits, the idle
	// ones being enough). Once they all wait, a job goes to one of them.
	took := false
	for attempt := 0; attempt < 100 && !took; attempt++ {
		hold := make(chan struct{})
		w.Run(func() { <-hold })
		for deadline := time.Now().Add(100 * time.Millisecond); !took && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			took = w.Idle() == maxIdleWorkers-1
		}
		close(hold)
		dnstest.WaitFor(t, "the worker to wait again", 10*time.Second, func() bool { return w.Idle() == maxIdleWorkers })
	}
	if !took {
		t.Fatal("no job went to a waiting worker in 100 tries")
	}

	cancel()
	dnstest.WaitFor(t, "every worker to end", 10*time.Second, func() bool { return w.Idle() == 0 && runtime.NumGoroutine() <= before })
}
