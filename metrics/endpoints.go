package metrics

import "github.com/prometheus/client_golang/prometheus"

// EndpointCounters are the children of s3dns_requests_total{action="endpoint"}
// for one configuration's endpoints, by index: made on first use, then
// counted without a label lookup. A set lives with the configuration that
// names the endpoints.
type EndpointCounters struct {
	names []string
	slots [][numProtos][len(qtypeLabels)]counterSlot
}

// NewEndpointCounters prepares the counters of the endpoints called names,
// in configuration order.
func NewEndpointCounters(names []string) *EndpointCounters {
	return &EndpointCounters{names: names, slots: make([][numProtos][len(qtypeLabels)]counterSlot, len(names))}
}

// CountEndpoint adds one to s3dns_requests_total for a query endpoint i
// answered (the one matched, or a fallback answering for it).
func (m *Metrics) CountEndpoint(c *EndpointCounters, i int, p Proto, qtype uint16) {
	if c == nil || i < 0 || i >= len(c.slots) {
		m.CountRequest(p, qtype, ActionEndpoint)
		return
	}
	qi := qtypeIndex(qtype)
	c.slots[i][p][qi].get(func() prometheus.Counter {
		return m.Requests.WithLabelValues(p.Socket(), p.String(), qtypeLabels[qi], ActionEndpoint.String(), c.names[i])
	}).Inc()
}

// Name is endpoint i's label value ("" for none).
func (c *EndpointCounters) Name(i int) string {
	if c == nil || i < 0 || i >= len(c.names) {
		return ""
	}
	return c.names[i]
}
