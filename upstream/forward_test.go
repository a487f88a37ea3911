package upstream

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

const record = "www.example. 300 IN A 192.0.2.1"

func askA(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(1232, false)
	return m
}

func TestFailover(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	timeout := 200 * time.Millisecond
	for _, tc := range dnstest.Faults {
		t.Run(tc.Name, func(t *testing.T) {
			bad := dnstest.NewUpstream(t, record)
			bad.SetMode(tc.Mode, 3*timeout)
			good := dnstest.NewUpstream(t, record)
			f := New([]string{bad.Addr, good.Addr}, timeout)
			start := time.Now()
			resp, from, err := f.Exchange(context.Background(), askA("www.example."))
			if err != nil {
				t.Fatal(err)
			}
			if from != good.Addr || len(resp.Answer) != 1 {
				t.Fatalf("answer from %s: %v", from, resp)
			}
			if bad.Count("www.example.", "udp") != 1 {
				t.Errorf("bad upstream asked %d times over udp", bad.Count("www.example.", "udp"))
			}
			// A bound against hangs, not a performance assertion.
			if elapsed := time.Since(start); elapsed > 2*timeout+time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

func TestTruncatedRetriedOverTCP(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.Truncate, 0)
	resp, _, err := New([]string{u.Addr}, time.Second).Exchange(context.Background(), askA("www.example."))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Truncated || len(resp.Answer) != 1 {
		t.Fatalf("resp %v", resp)
	}
	if u.Count("www.example.", "udp") != 1 || u.Count("www.example.", "tcp") != 1 {
		t.Fatalf("udp %d tcp %d", u.Count("www.example.", "udp"), u.Count("www.example.", "tcp"))
	}
}

func TestAllFail(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	a, b := dnstest.NewUpstream(t), dnstest.NewUpstream(t)
	a.SetMode(dnstest.Silent, 0)
	b.SetMode(dnstest.Servfail, 0)
	timeout := 150 * time.Millisecond
	start := time.Now()
	_, _, err := New([]string{a.Addr, b.Addr}, timeout).Exchange(context.Background(), askA("www.example."))
	if !errors.Is(err, ErrAllFailed) {
		t.Fatalf("err = %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*timeout+time.Second {
		t.Errorf("took %v, want about %v", elapsed, 2*timeout)
	}
}

func TestNXDOMAINIsAnAnswer(t *testing.T) {
	a, b := dnstest.NewUpstream(t), dnstest.NewUpstream(t, record)
	resp, from, err := New([]string{a.Addr, b.Addr}, time.Second).Exchange(context.Background(), askA("www.example."))
	if err != nil || resp.Rcode != dns.RcodeNameError || from != a.Addr {
		t.Fatalf("resp %v from %s err %v", resp, from, err)
	}
}

func TestFreshIDsAndQueryUnchanged(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, time.Second)
	q := askA("www.example.")
	q.Id = 4242
	for range 5 {
		if _, _, err := f.Exchange(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	if q.Id != 4242 {
		t.Fatal("the caller's query was modified")
	}
	ids := map[uint16]bool{}
	for _, m := range u.Asked() {
		ids[m.Id] = true
	}
	if ids[4242] || len(ids) < 4 {
		t.Fatalf("upstream saw IDs %v", ids)
	}
}

func TestFailingUpstreamSkippedThenProbed(t *testing.T) {
	bad, good := dnstest.NewUpstream(t, record), dnstest.NewUpstream(t, record)
	bad.SetMode(dnstest.Refused, 0)
	clock := dnstest.NewClock()
	f := New([]string{bad.Addr, good.Addr}, time.Second, WithClock(clock.Now))
	ask := func() {
		t.Helper()
		if _, from, err := f.Exchange(context.Background(), askA("www.example.")); err != nil || from != good.Addr {
			t.Fatalf("from %s err %v", from, err)
		}
	}
	for range failThreshold {
		ask()
	}
	if n := bad.Total(); n != failThreshold {
		t.Fatalf("bad asked %d times", n)
	}
	ask()
	ask()
	if n := bad.Total(); n != failThreshold {
		t.Fatalf("bad upstream not skipped: asked %d times", n)
	}
	clock.Add(minBackoff)
	bad.SetMode(dnstest.Normal, 0)
	if _, from, err := f.Exchange(context.Background(), askA("www.example.")); err != nil || from != bad.Addr {
		t.Fatalf("after the back-off the recovered upstream should be probed and used: from %s err %v", from, err)
	}
}

// A SERVFAIL speaks of one name (a broken domain, a DNSSEC failure): the
// query moves to the next upstream, but the upstream is not rested.
func TestServfailDoesNotRestUpstream(t *testing.T) {
	first, second := dnstest.NewUpstream(t, record), dnstest.NewUpstream(t, record)
	first.FailName("broken.example.")
	clock := dnstest.NewClock()
	f := New([]string{first.Addr, second.Addr}, time.Second, WithClock(clock.Now))
	for range failThreshold + 2 {
		if _, from, err := f.Exchange(context.Background(), askA("broken.example.")); err != nil || from != second.Addr {
			t.Fatalf("SERVFAIL did not move on: from %s err %v", from, err)
		}
	}
	if _, from, err := f.Exchange(context.Background(), askA("www.example.")); err != nil || from != first.Addr {
		t.Fatalf("the first upstream was rested for one bad name: answer from %s, err %v", from, err)
	}
}

func TestAllDownStillTried(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.Refused, 0)
	clock := dnstest.NewClock()
	f := New([]string{u.Addr}, time.Second, WithClock(clock.Now))
	for range failThreshold {
		f.Exchange(context.Background(), askA("www.example."))
	}
	u.SetMode(dnstest.Normal, 0)
	if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
		t.Fatalf("with every upstream resting, they are still tried: %v", err)
	}
}

func TestForgedRepliesDroppedAndCounted(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.WrongIDFirst, 0)
	var mismatches atomic.Int64
	f := New([]string{u.Addr}, time.Second, WithObserver(func(_, result string, _ time.Duration) {
		if result == "mismatch" {
			mismatches.Add(1)
		}
	}))
	resp, _, err := f.Exchange(context.Background(), askA("www.example."))
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("the real reply after a forged one was not taken: %v %v", resp, err)
	}
	if mismatches.Load() != 1 {
		t.Fatalf("forged replies counted: %d", mismatches.Load())
	}
}

func TestReplyFromAnotherAddressIgnored(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	spoofer, good := dnstest.NewUpstream(t, record), dnstest.NewUpstream(t, record)
	spoofer.SetMode(dnstest.OtherAddress, 0)
	resp, from, err := New([]string{spoofer.Addr, good.Addr}, 200*time.Millisecond).Exchange(context.Background(), askA("www.example."))
	if err != nil || from != good.Addr || len(resp.Answer) != 1 {
		t.Fatalf("a reply from another port was accepted or failover failed: from %s err %v", from, err)
	}
}

func TestOverloadFailsFast(t *testing.T) {
	t.Parallel() // waits on timeouts: overlapped with the other waiting tests
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.Slow, 300*time.Millisecond)
	f := New([]string{u.Addr}, time.Second, WithMaxInFlight(2))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); f.Exchange(context.Background(), askA("www.example.")) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for u.Total() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, _, err := f.Exchange(context.Background(), askA("www.example.")); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("third concurrent exchange: %v, want ErrOverloaded", err)
	}
	wg.Wait()
	if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
		t.Fatalf("after the load: %v", err)
	}
}

// Nothing listening on the upstream's port: the ICMP error ends the attempt
// as an error at once, not as a timeout.
func TestClosedPortIsAnError(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	var results []string
	f := New([]string{addr}, 5*time.Second, WithObserver(func(_, result string, _ time.Duration) { results = append(results, result) }))
	if _, _, err := f.Exchange(context.Background(), askA("www.example.")); !errors.Is(err, ErrAllFailed) {
		t.Fatalf("err = %v", err)
	}
	if len(results) != 1 || results[0] != "error" {
		t.Fatalf("results %v, want [error]", results)
	}
}

// Cancelling the context (a server shutting down) ends an exchange waiting
// on a silent upstream at once.
func TestCancelEndsTheWait(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	u.SetMode(dnstest.Silent, 0)
	f := New([]string{u.Addr}, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, _, err := f.Exchange(ctx, askA("www.example.")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A bound against hangs, not a performance assertion.
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Fatalf("took %v", elapsed)
	}
}
