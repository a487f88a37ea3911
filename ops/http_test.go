package ops

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "s3dns_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	var ready Readiness
	srv, err := Start("127.0.0.1:0", Handler(reg, &ready, func() any { return []string{} }, nil, nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	base := "http://" + srv.Addr()

	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz before ready = %d", code)
	}
	ready.Unblock("starting")
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz when ready = %d", code)
	}
	ready.Block("forwarding loop")
	ready.Block("shutting down")
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "forwarding loop, shutting down") {
		t.Errorf("/readyz while blocked = %d %q", code, body)
	}
	ready.Unblock("forwarding loop")
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz while shutting down = %d", code)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "s3dns_test_total 1") {
		t.Errorf("/metrics = %d %q", code, body)
	}
	if code, _ := get(t, base+"/nope"); code != 404 {
		t.Errorf("unknown path = %d", code)
	}
}
