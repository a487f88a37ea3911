package upstream

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Upstream sockets are reused briefly: a source port serves at most
// poolMaxUses queries in a row, then a new socket (a new random port) takes over.
func TestSocketsRotate(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, time.Second)
	defer f.Close()
	for range 2*poolMaxUses + 1 {
		if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
			t.Fatal(err)
		}
	}
	runs, last, run := []int{}, "", 0
	for _, src := range u.Sources() {
		if src != last && run > 0 {
			runs = append(runs, run)
			run = 0
		}
		last = src
		run++
	}
	runs = append(runs, run)
	if len(runs) != 3 || runs[0] != poolMaxUses || runs[1] != poolMaxUses || runs[2] != 1 {
		t.Fatalf("queries per source port: %v, want %d, %d, 1", runs, poolMaxUses, poolMaxUses)
	}
}

// A socket whose exchange failed is never used again: a late reply to the
// failed query must not meet the next one.
func TestFailedSocketNotReused(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, 150*time.Millisecond)
	defer f.Close()
	f.Exchange(context.Background(), askA("www.example."))
	u.SetMode(dnstest.Silent, 0)
	f.Exchange(context.Background(), askA("www.example."))
	u.SetMode(dnstest.Normal, 0)
	f.Exchange(context.Background(), askA("www.example."))
	src := u.Sources()
	if len(src) != 3 || src[0] != src[1] || src[2] == src[1] {
		t.Fatalf("sources %v: the socket of the timed-out query was reused", src)
	}
}

func TestSocketsExpire(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	clock := dnstest.NewClock()
	f := New([]string{u.Addr}, time.Second, WithClock(clock.Now))
	defer f.Close()
	f.Exchange(context.Background(), askA("www.example."))
	clock.Add(poolMaxAge)
	f.Exchange(context.Background(), askA("www.example."))
	if src := u.Sources(); len(src) != 2 || src[0] == src[1] {
		t.Fatalf("sources %v: a socket older than %v was reused", src, poolMaxAge)
	}
}

// A burst of concurrent misses gives its sockets back for the next burst: a
// saturated server reads its misses in batches, and closing most of a
// batch's sockets only to open new ones for the next cost a third of a
// miss's CPU.
func TestBurstSocketsReused(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.Slow, 100*time.Millisecond) // every exchange of a burst in flight at once
	f := New([]string{u.Addr}, time.Second)
	defer f.Close()
	const burst = 150
	for range 2 {
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	ports := map[string]bool{}
	for _, src := range u.Sources() {
		ports[src] = true
	}
	if len(ports) > burst {
		t.Fatalf("%d source ports for two bursts of %d: the second burst did not get the first's sockets back", len(ports), burst)
	}
}
