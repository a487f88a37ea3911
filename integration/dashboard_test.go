package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3dns/s3dns/metrics"
)

// recorder is a Registerer that keeps what is registered on it.
type recorder struct {
	collectors []prometheus.Collector
}

func (r *recorder) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}
func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}
func (r *recorder) Unregister(prometheus.Collector) bool { return false }

var fqName = regexp.MustCompile(`fqName: "([a-z0-9_:]+)"`)

// exportedMetrics are the names s3dns can export (histograms with their
// _bucket, _sum and _count series), whether or not a series exists yet.
func exportedMetrics(t *testing.T) map[string]bool {
	r := &recorder{}
	metrics.New(r, "test", func() float64 { return 0 })
	metrics.RegisterReadiness(r, func() bool { return true }, func() bool { return false })
	metrics.RegisterDiscovery(r, func() map[string]time.Duration { return nil }, nil)
	names := map[string]bool{}
	for _, c := range r.collectors {
		ch := make(chan *prometheus.Desc, 100)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("no name in %s", d)
			}
			for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
	}
	return names
}

var metricName = regexp.MustCompile(`\bs3dns_[a-z_]+\b`)

// The shipped dashboard queries only what s3dns exports, covers what an
// operator watches, and promtool parses every expression.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(repoFile("deploy/grafana/s3dns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	used := map[string]bool{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range metricName.FindAllString(target.Expr, -1) {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")] = true
				if !exported[name] {
					t.Errorf("panel %q queries %s, which s3dns does not export", p.Title, name)
				}
			}
			// Grafana's variables, as Grafana would fill them in.
			expr := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*").Replace(target.Expr)
			n++
			fmt.Fprintf(&rules, "      - record: dashboard:panel_%d\n        expr: %q\n", n, expr)
		}
	}
	for _, want := range []string{"s3dns_requests_total", "s3dns_responses_total", "s3dns_cache_requests_total",
		"s3dns_upstream_request_duration_seconds", "s3dns_upstream_requests_total", "s3dns_endpoint_up",
		"s3dns_tcp_connections", "s3dns_dnstap_dropped_total", "s3dns_config_reloads_total", "s3dns_ready",
		"s3dns_discovery_age_seconds", "s3dns_tls_connections", "s3dns_tls_handshakes_total", "s3dns_tls_handshake_errors_total"} {
		if !used[want] {
			t.Errorf("the dashboard shows nothing of %s", want)
		}
	}
	promtool := requireTool(t, "promtool", "prometheus")
	file := filepath.Join(t.TempDir(), "dashboard.rules.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool does not accept the dashboard's expressions: %v\n%s", err, out)
	}
	if n < 20 {
		t.Errorf("only %d expressions", n)
	}
}
