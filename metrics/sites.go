package metrics

import "github.com/prometheus/client_golang/prometheus"

// SiteCounters are one site's children of s3dns_site_requests_total, made
// on first use and then counted without a label lookup. A site's set lives
// with the configuration that defines it.
type SiteCounters struct {
	name  string
	slots [numActions]counterSlot
}

// NewSiteCounters prepares the counters of the site called name.
func NewSiteCounters(name string) *SiteCounters { return &SiteCounters{name: name} }

// CountSite adds one to s3dns_site_requests_total{site,action}.
func (m *Metrics) CountSite(s *SiteCounters, a Action) {
	if s == nil || a >= numActions {
		return
	}
	s.slots[a].get(func() prometheus.Counter { return m.SiteRequests.WithLabelValues(s.name, a.String()) }).Inc()
}
