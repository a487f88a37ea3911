package dnsserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
)

func TestMetricNamesLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "v0", func() float64 { return 0 })
	metrics.RegisterReadiness(reg, func() bool { return true }, func() bool { return false })
	// Touch every vector so that each family is gathered.
	m.Requests.WithLabelValues("udp", "udp", "A", "forward", "").Inc()
	m.Responses.WithLabelValues("NOERROR").Inc()
	m.RequestDuration.WithLabelValues("forward", "udp").Observe(0.001)
	m.TLSHandshakeErrors.WithLabelValues("timeout").Inc()
	m.ObserveUpstream("127.0.0.1:53", "success", 0)
	m.CacheRequests.WithLabelValues("hit").Inc()
	m.AddressUp("endpoints[0]", "10.0.1.10", true)
	m.Probe("endpoints[0]", "success")
	m.DnstapDropped.Inc()
	problems, err := testutil.GatherAndLint(reg)
	if n, err := testutil.GatherAndCount(reg, "s3dns_tcp_refused_total", "s3dns_endpoint_up", "s3dns_endpoint_probes_total",
		"s3dns_dnstap_dropped_total", "s3dns_tcp_closed_total", "s3dns_tcp_connections"); err != nil || n != 10 {
		t.Errorf("new metric series: %d (%v), want 3 refusal reasons, one address, one probe result, drops, 3 close reasons, open connections", n, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestQueriesMoveTheRightCounters(t *testing.T) {
	h := start(t, baseConfig())

	h.query(t, listed, dns.TypeA)
	h.ask(t, "tcp", question(unlisted, dns.TypeAAAA))
	h.query(t, unlisted, 65280) // a private-use type: counted as "other"

	h.srv.Swap(h.stateFor(withAllow(h.srv.State().Config, "10.0.0.0/8")))
	h.query(t, listed, dns.TypeA)
	m := h.metrics
	// A full-path reply is counted once written: just after the client has it.
	dnstest.WaitFor(t, "four queries and replies counted", 2*time.Second, func() bool {
		return total(t, m.Requests) == 4 && total(t, m.Responses) == 4
	})

	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"udp", "udp", "A", "endpoint", "s3-eu-west-2"}, 1},
		{[]string{"tcp", "tcp", "AAAA", "forward", ""}, 1},
		{[]string{"udp", "udp", "other", "forward", ""}, 1},
		{[]string{"udp", "udp", "A", "refused", ""}, 1},
		{[]string{"udp", "udp", "A", "forward", ""}, 0},
	} {
		if got := testutil.ToFloat64(m.Requests.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("s3dns_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.Responses.WithLabelValues("REFUSED")); got != 1 {
		t.Errorf("REFUSED responses = %v", got)
	}
	if got := testutil.ToFloat64(m.Responses.WithLabelValues("NOERROR")); got != 3 {
		t.Errorf("NOERROR responses = %v", got)
	}
	if got := testutil.CollectAndCount(m.RequestDuration); got != 4 {
		t.Errorf("duration series = %d, want endpoint/udp, forward/tcp, forward/udp, refused/udp", got)
	}
}

// withAllow copies cfg with a different access list.
func withAllow(cfg *model.Config, prefix string) *model.Config {
	c := *cfg
	c.Access.Allow = []netip.Prefix{netip.MustParsePrefix(prefix)}
	return &c
}

// total adds up every series of a counter vector.
func total(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	c.Collect(ch)
	close(ch)
	sum := 0.0
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		sum += pb.GetCounter().GetValue()
	}
	return sum
}
