package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// discoveryAge reports, at each scrape, how old each discovered endpoint's
// data is and whether it came from the state file: the gauges' series are
// the endpoints that have data.
type discoveryAge struct {
	desc, stateDesc *prometheus.Desc
	ages            func() map[string]time.Duration
	fromState       func() map[string]bool
}

func (c discoveryAge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.stateDesc }

func (c discoveryAge) Collect(ch chan<- prometheus.Metric) {
	for name, age := range c.ages() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, age.Seconds(), name)
	}
	if c.fromState == nil {
		return
	}
	for name, from := range c.fromState() {
		v := 0.0
		if from {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.stateDesc, prometheus.GaugeValue, v, name)
	}
}

// RegisterDiscovery adds s3dns_discovery_age_seconds and
// s3dns_discovery_from_state_file (read from ages and fromState at each
// scrape; fromState may be nil) and returns s3dns_discovery_errors_total,
// all by endpoint.
func RegisterDiscovery(reg prometheus.Registerer, ages func() map[string]time.Duration, fromState func() map[string]bool) *prometheus.CounterVec {
	errors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "s3dns_discovery_errors_total",
		Help: "Failed refreshes of an endpoint given by vpc_endpoint_id (API error, not found, wrong service or state); the last good data stays in use.",
	}, []string{"endpoint"})
	reg.MustRegister(errors, discoveryAge{
		desc: prometheus.NewDesc("s3dns_discovery_age_seconds",
			"Age of the EC2 data in use for an endpoint given by vpc_endpoint_id (absent until the first discovery).",
			[]string{"endpoint"}, nil),
		stateDesc: prometheus.NewDesc("s3dns_discovery_from_state_file",
			"1 while an endpoint's data in use came from discovery.state_file at start and EC2 has not confirmed it yet, else 0.",
			[]string{"endpoint"}, nil),
		ages: ages, fromState: fromState,
	})
	return errors
}
