package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Identical fetches in progress are one: every waiter gets its value,
// marked shared; another key fetches on its own; the fetcher is kept to
// run the next one.
func TestFlightsCoalesce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFlights(ctx)
	var fetches atomic.Int32
	release := make(chan struct{})
	fetch := func() (any, error) {
		fetches.Add(1)
		<-release
		return "answer", nil
	}
	const waiters = 20
	chans := make([]*flight, waiters)
	for i := range chans {
		chans[i] = f.do("a/1", fetch)
	}
	other := f.do("b/1", func() (any, error) { return "other", nil })
	if r := other; wait(r) && (r.val != "other" || r.shared) {
		t.Errorf("another key: %+v, want its own value, not shared", r)
	}
	close(release)
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := ch; wait(r) && (r.val != "answer" || r.err != nil || !r.shared) {
				t.Errorf("waiter got %+v, want the shared answer", r)
			}
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches for %d waiters of one key, want 1", n, waiters)
	}
	if r := f.do("a/1", func() (any, error) { return "again", nil }); wait(r) && (r.val != "again" || r.shared) {
		t.Errorf("after the first fetch ended: %+v, want a fetch of its own", r)
	}
	dnstest.WaitFor(t, "a fetcher kept waiting for the next fetch", 5*time.Second, func() bool { return f.pool.Idle() > 0 })
}

// wait waits for r's fetch to end; it returns true, so that a check of
// the outcome can follow it in one condition.
func wait(r *flight) bool {
	<-r.done
	return true
}
