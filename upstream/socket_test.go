package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Every upstream query leaves from a socket of its own on a random port
// (RFC 5452 §9.2; issue 30, item 2): 200 sequential misses use about 200
// source ports, as Unbound's and BIND's do, never one port for a run of
// queries. Random ports may meet again by chance, even twice in a row
// (about one run in 140 for 199 pairs drawn from Linux's 28,000-port
// range), so a few repeats are allowed; three in a row are not (about one
// run in 4 million).
func TestEveryQueryHasItsOwnSourcePort(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, time.Second)
	defer f.Close()
	const queries = 200
	for range queries {
		if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
			t.Fatal(err)
		}
	}
	src := u.Sources()
	ports := map[string]bool{}
	for i, s := range src {
		if i > 1 && s == src[i-1] && s == src[i-2] {
			t.Fatalf("queries %d to %d left from the same port %s", i-1, i+1, s)
		}
		ports[s] = true
	}
	if len(src) != queries || len(ports) < queries-10 {
		t.Fatalf("%d queries from %d source ports, want about one port each", len(src), len(ports))
	}
}

// A socket whose exchange failed is never used again: a late reply to the
// failed query must not meet the next one.
func TestFailedSocketNotReused(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, 150*time.Millisecond)
	defer f.Close()
	f.Exchange(context.Background(), askA("www.example."))
	u.SetMode(dnstest.Silent, 0)
	f.Exchange(context.Background(), askA("www.example."))
	u.SetMode(dnstest.Normal, 0)
	f.Exchange(context.Background(), askA("www.example."))
	src := u.Sources()
	if len(src) != 3 || src[0] == src[1] || src[2] == src[1] {
		t.Fatalf("sources %v: a socket was reused", src)
	}
}
