package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// RFC 9520 §3.2: a resolution failure is remembered per question for 1 s,
// doubling for each failure in a row up to 5 s; a good answer ends the
// streak; other questions are not affected.
func TestResolutionFailuresAreCachedBriefly(t *testing.T) {
	// Caching off: every good answer is asked for, so that the streak's end shows.
	c, u, clock := setup(t, Config{MaxEntries: 0}, "ok.example. 60 IN A 192.0.2.1", "bad.example. 60 IN A 192.0.2.2")
	u.FailName("bad.example.")
	ask := func() error {
		_, err := c.Resolve(context.Background(), wire.Question{Name: "bad.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		return err
	}
	asked := func() int { return u.Count("bad.example.", "udp") }
	steps := []struct {
		after  time.Duration
		recent bool // answered from the remembered failure, not asked
		asked  int
	}{
		{0, false, 1},
		{0, true, 1},
		{900 * time.Millisecond, true, 1},
		{100 * time.Millisecond, false, 2}, // 1 s after the first failure
		{1500 * time.Millisecond, true, 2}, // the second in a row holds 2 s
		{500 * time.Millisecond, false, 3},
		{3 * time.Second, true, 3}, // the third holds 4 s
		{time.Second, false, 4},
		{4900 * time.Millisecond, true, 4}, // then 5 s at most
		{100 * time.Millisecond, false, 5},
	}
	for i, s := range steps {
		clock.Add(s.after)
		err := ask()
		if err == nil || errors.Is(err, ErrRecentFailure) != s.recent || asked() != s.asked {
			t.Fatalf("step %d: error %v, upstream asked %d times; want recent=%v, %d", i, err, asked(), s.recent, s.asked)
		}
	}
	if r := resolve(t, c, "ok.example.", dns.TypeA); r.Source != wire.FromUpstream {
		t.Fatal("another question was held back")
	}
	// A good answer ends the streak: the next failure holds 1 s again.
	clock.Add(FailureMax)
	u.Unfail("bad.example.")
	if err := ask(); err != nil {
		t.Fatalf("after the failure expired: %v", err)
	}
	u.FailName("bad.example.")
	if err := ask(); err == nil || errors.Is(err, ErrRecentFailure) {
		t.Fatalf("a new failure: %v", err)
	}
	clock.Add(900 * time.Millisecond)
	if err := ask(); !errors.Is(err, ErrRecentFailure) {
		t.Fatalf("0.9 s after a new failure: %v", err)
	}
	clock.Add(100 * time.Millisecond)
	if err := ask(); err == nil || errors.Is(err, ErrRecentFailure) || asked() != 8 {
		t.Fatalf("1 s after a new failure: %v, asked %d times (want 8)", err, asked())
	}
}
