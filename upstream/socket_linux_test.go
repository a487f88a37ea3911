package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Between queries a socket holds no port: the port a query used is given
// back as soon as its exchange ends, so an open port always belongs to a
// query in flight.
func TestIdleSocketHoldsNoPort(t *testing.T) {
	u := dnstest.NewUpstream(t, record)
	f := New([]string{u.Addr}, time.Second)
	defer f.Close()
	if _, _, err := f.Exchange(context.Background(), askA("www.example.")); err != nil {
		t.Fatal(err)
	}
	idle := f.sockets.idle(false)
	select {
	case s := <-idle:
		if port := localAddr(s).Port(); port != 0 {
			t.Fatalf("an idle socket still holds port %d", port)
		}
		idle <- s
	default:
		t.Fatal("no idle socket kept after a successful exchange")
	}
}
