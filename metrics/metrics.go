// Package metrics defines every Prometheus metric of s3dns, registered on a
// registry the caller provides (never the global one).
package metrics

import (
	"runtime"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the collectors the packages update.
type Metrics struct {
	Requests        *prometheus.CounterVec   // proto, transport, qtype, action, endpoint
	SiteRequests    *prometheus.CounterVec   // site, action
	Responses       *prometheus.CounterVec   // rcode
	RequestDuration *prometheus.HistogramVec // action, transport
	InFlight        prometheus.Gauge
	// TLSHandshakeErrors counts failed handshakes on the TLS and HTTPS
	// listeners, by reason.
	TLSHandshakeErrors *prometheus.CounterVec
	// TLSHandshakes counts completed handshakes, TLSConnections the
	// encrypted connections open, by transport (tls, https).
	TLSHandshakes   *prometheus.CounterVec
	TLSConnections  *prometheus.GaugeVec
	Upstream        *prometheus.CounterVec   // upstream, result
	UpstreamLatency *prometheus.HistogramVec // upstream
	CacheRequests   *prometheus.CounterVec   // result
	TCPRefused      *prometheus.CounterVec   // reason
	TCPClosed       *prometheus.CounterVec   // reason
	TCPConnections  prometheus.Gauge
	EndpointUp      *prometheus.GaugeVec   // endpoint, address
	EndpointProbes  *prometheus.CounterVec // endpoint, result
	DnstapDropped   prometheus.Counter
	Reloads         *prometheus.CounterVec // result
	LastReloadOK    prometheus.Gauge

	fast fastTables
}

// New registers every s3dns metric, plus the Go and process collectors, on
// reg. cacheEntries is read at each scrape.
func New(reg prometheus.Registerer, version string, cacheEntries func() float64) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_requests_total",
			Help: "DNS queries received, by socket protocol (udp, tcp), transport (udp, tcp, tls, https), query type, how they were answered, and the endpoint that answered (action endpoint; a fallback's name while it answers for another).",
		}, []string{"proto", "transport", "qtype", "action", "endpoint"}),
		SiteRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_site_requests_total",
			Help: "DNS queries from clients of a configured site, by site and how they were answered (clients in no site are not counted here).",
		}, []string{"site", "action"}),
		Responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_responses_total",
			Help: "DNS responses sent, by response code.",
		}, []string{"rcode"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "s3dns_request_duration_seconds",
			Help:    "Time from receiving a query to writing its answer.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"action", "transport"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "s3dns_inflight_queries",
			Help: "Queries being answered right now.",
		}),
		TLSHandshakeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_tls_handshake_errors_total",
			Help: "Failed TLS handshakes on the DNS over TLS and HTTPS listeners, by reason (client_certificate, refused_by_client, timeout, other).",
		}, []string{"reason"}),
		TLSHandshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_tls_handshakes_total",
			Help: "Completed TLS handshakes on the DNS over TLS and HTTPS listeners, by transport (tls, https).",
		}, []string{"transport"}),
		TLSConnections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "s3dns_tls_connections",
			Help: "Encrypted connections open now, by transport (tls, https); DNS over TLS ones count in s3dns_tcp_connections too.",
		}, []string{"transport"}),
		Upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_upstream_requests_total",
			Help: "Attempts to ask an upstream, by upstream and result (success, timeout, servfail, refused, mismatch, truncated, error).",
		}, []string{"upstream", "result"}),
		UpstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "s3dns_upstream_request_duration_seconds",
			Help:    "Duration of attempts to ask an upstream.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"upstream"}),
		CacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_cache_requests_total",
			Help: "Cache lookups, by result (hit, miss, stale).",
		}, []string{"result"}),
		TCPRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_tcp_refused_total",
			Help: "TCP connections closed at accept, by reason (acl, per_client, limit).",
		}, []string{"reason"}),
		TCPClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_tcp_closed_total",
			Help: "TCP connections the server closed while they were in use, by reason (write_failed: a reply could not be written whole in tcp.write_timeout; queue_full: tcp.max_queued replies waited; evicted: the oldest idle connection of a client at access.tcp_per_client, closed to admit a new one).",
		}, []string{"reason"}),
		TCPConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "s3dns_tcp_connections",
			Help: "TCP connections open now.",
		}),
		EndpointUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "s3dns_endpoint_up",
			Help: "1 while a probed endpoint address answers its health check, 0 while it is down.",
		}, []string{"endpoint", "address"}),
		EndpointProbes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_endpoint_probes_total",
			Help: "Endpoint health probes, by endpoint and result (success, failure).",
		}, []string{"endpoint", "result"}),
		DnstapDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "s3dns_dnstap_dropped_total",
			Help: "dnstap messages dropped because the output could not keep up (a slow or absent collector).",
		}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "s3dns_config_reloads_total",
			Help: "Configuration reloads, by result (success, failure).",
		}, []string{"result"}),
		LastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "s3dns_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded (or none was tried), 0 if it failed.",
		}),
	}
	m.LastReloadOK.Set(1)
	for _, reason := range []string{"acl", "per_client", "limit"} {
		m.TCPRefused.WithLabelValues(reason)
	}
	for _, reason := range []string{"write_failed", "queue_full", "evicted"} {
		m.TCPClosed.WithLabelValues(reason)
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "s3dns_build_info",
		Help:        "Always 1; labels give the version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "s3dns_cache_entries",
		Help: "Answers held in the cache.",
	}, cacheEntries)
	reg.MustRegister(m.Requests, m.SiteRequests, m.Responses, m.RequestDuration, m.InFlight, m.TLSHandshakeErrors, m.TLSHandshakes, m.TLSConnections, m.Upstream, m.UpstreamLatency,
		m.CacheRequests, m.TCPRefused, m.TCPClosed, m.TCPConnections, m.EndpointUp, m.EndpointProbes, m.DnstapDropped, m.Reloads, m.LastReloadOK, buildInfo, entries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Show every reload result from the start, so alerts on failures see 0.
	m.Reloads.WithLabelValues("success")
	m.Reloads.WithLabelValues("failure")
	return m
}

// RegisterReadiness adds the gauges an operator alerts on: s3dns_ready
// (what /readyz says) and s3dns_forwarding_loop_detected, both read at each
// scrape from the same source as /readyz, so they cannot disagree with it.
func RegisterReadiness(reg prometheus.Registerer, ready, loop func() bool) {
	gauge := func(f func() bool) func() float64 {
		return func() float64 {
			if f() {
				return 1
			}
			return 0
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "s3dns_ready",
			Help: "1 while /readyz answers 200 (listeners bound, configuration loaded, no forwarding loop, not shutting down), else 0.",
		}, gauge(ready)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "s3dns_forwarding_loop_detected",
			Help: "1 while the start-up or reload probe found the upstreams sending s3dns's own queries back to it, else 0.",
		}, gauge(loop)))
}

// Probe counts one endpoint health probe (health.Observer).
func (m *Metrics) Probe(endpoint, result string) {
	m.EndpointProbes.WithLabelValues(endpoint, result).Inc()
}

// AddressUp sets s3dns_endpoint_up for one address (health.Observer). The
// address set is bounded by the endpoint's interfaces.
func (m *Metrics) AddressUp(endpoint, address string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.EndpointUp.WithLabelValues(endpoint, address).Set(v)
}

// Forget drops an address the endpoint no longer has (health.Observer).
func (m *Metrics) Forget(endpoint, address string) { m.EndpointUp.DeleteLabelValues(endpoint, address) }

// ObserveUpstream records one upstream attempt.
func (m *Metrics) ObserveUpstream(upstream, result string, d time.Duration) {
	m.Upstream.WithLabelValues(upstream, result).Inc()
	m.UpstreamLatency.WithLabelValues(upstream).Observe(d.Seconds())
}

// RcodeLabel names a response code, "other" for codes without a name.
func RcodeLabel(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "other"
}

// RegisterCertificateExpiry adds s3dns_tls_certificate_expiry_seconds: the
// seconds until the encrypted listeners' certificate expires, read at each
// scrape (none without encrypted listeners).
func RegisterCertificateExpiry(reg prometheus.Registerer, expiry func() time.Time) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "s3dns_tls_certificate_expiry_seconds",
		Help: "Seconds until the certificate of the DNS over TLS and HTTPS listeners expires.",
	}, func() float64 { return time.Until(expiry()).Seconds() }))
}
