package metrics

import "github.com/prometheus/client_golang/prometheus"

// UpstreamResults are the result label values of
// s3dns_upstream_requests_total (upstream.WithObserver's).
var UpstreamResults = []string{"success", "timeout", "servfail", "refused", "mismatch", "truncated", "error"}

// Known names what the configuration says the labelled series will be.
type Known struct {
	Upstreams  []string // s3dns_upstream_requests_total{upstream}
	Probed     []string // endpoints with health: s3dns_endpoint_probes_total{endpoint}
	Sites      []string // s3dns_site_requests_total{site}
	Discovered []string // endpoints given by vpc_endpoint_id: s3dns_discovery_errors_total{endpoint}
}

// StartAtZero makes every series whose label values the configuration
// knows exist from the start at 0, so that rate() and absent() in alerts
// see them before their first event. discoveryErrors may be nil.
func (m *Metrics) StartAtZero(k Known, discoveryErrors *prometheus.CounterVec) {
	for _, u := range k.Upstreams {
		for _, r := range UpstreamResults {
			m.Upstream.WithLabelValues(u, r)
		}
	}
	for _, e := range k.Probed {
		m.EndpointProbes.WithLabelValues(e, "success")
		m.EndpointProbes.WithLabelValues(e, "failure")
	}
	for _, s := range k.Sites {
		for a := range numActions {
			m.SiteRequests.WithLabelValues(s, a.String())
		}
	}
	if discoveryErrors != nil {
		for _, e := range k.Discovered {
			discoveryErrors.WithLabelValues(e)
		}
	}
}

// AdminActions and AdminResults are the labels of s3dns_admin_requests_total.
var (
	AdminActions = []string{"flush", "dump", "reload"}
	AdminResults = []string{"ok", "denied", "error"}
)

// RegisterAdmin adds s3dns_admin_requests_total{action,result}, every
// series at 0 from the start.
func RegisterAdmin(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "s3dns_admin_requests_total",
		Help: "Requests to the HTTP admin paths, by action (flush, dump, reload) and result (ok, denied: a client outside http_admin_allow, error).",
	}, []string{"action", "result"})
	reg.MustRegister(c)
	for _, a := range AdminActions {
		for _, r := range AdminResults {
			c.WithLabelValues(a, r)
		}
	}
	return c
}
