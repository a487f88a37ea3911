package dnsserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/upstream"
)

func TestLoopDetected(t *testing.T) {
	addr := dnstest.FreeAddr(t)
	// The server's upstream is the server itself: the shortest forwarding loop.
	cfg := loadConfig(t, baseConfig().with(func(c *serverConfig) {
		c.Listen, c.Upstreams, c.UpstreamTimeout = []string{addr}, []string{addr}, "500ms"
	}))
	c := cache.New(cache.Config{MaxEntries: 10}, upstream.New(cfg.Upstreams, cfg.UpstreamTimeout))
	st := NewState(cfg, c, nil, nil)
	srv := New(st, Options{})
	if err := srv.Start(cfg.Listen); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if !srv.ProbeForLoop(context.Background(), st) {
		t.Fatal("loop not detected")
	}
}

func TestNoLoopWithARealUpstream(t *testing.T) {
	h := start(t, baseConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h.srv.ProbeForLoop(ctx, h.srv.State()) {
		t.Fatal("loop reported without one")
	}
	asked := h.up.Asked()
	if len(asked) != 2 { // the region, and the one exact bucket
		t.Fatalf("%d probes sent", len(asked))
	}
	for _, q := range asked {
		if !strings.HasPrefix(q.Question[0].Name, "s3dns-loop-probe-") || !strings.HasSuffix(q.Question[0].Name, ".s3.eu-west-2.amazonaws.com.") {
			t.Fatalf("probe name %s", q.Question[0].Name)
		}
	}
}
