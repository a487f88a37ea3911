package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// discoveryAge reports, at each scrape, how old each discovered endpoint's
// data is: the gauge's series are the endpoints that have data.
type discoveryAge struct {
	desc *prometheus.Desc
	ages func() map[string]time.Duration
}

func (c discoveryAge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c discoveryAge) Collect(ch chan<- prometheus.Metric) {
	for name, age := range c.ages() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, age.Seconds(), name)
	}
}

// RegisterDiscovery adds s3dns_discovery_age_seconds (read from ages at
// each scrape) and returns s3dns_discovery_errors_total, both by endpoint.
func RegisterDiscovery(reg prometheus.Registerer, ages func() map[string]time.Duration) *prometheus.CounterVec {
	errors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "s3dns_discovery_errors_total",
		Help: "Failed refreshes of an endpoint given by vpc_endpoint_id (API error, not found, wrong service or state); the last good data stays in use.",
	}, []string{"endpoint"})
	reg.MustRegister(errors, discoveryAge{
		desc: prometheus.NewDesc("s3dns_discovery_age_seconds",
			"Age of the EC2 data in use for an endpoint given by vpc_endpoint_id (absent until the first discovery).",
			[]string{"endpoint"}, nil),
		ages: ages,
	})
	return errors
}
