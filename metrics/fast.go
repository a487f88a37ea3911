package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The per-query metrics are updated through small tables of children made
// on first use: WithLabelValues hashes its labels on every call, which the
// fast path cannot afford.

var (
	protos  = []string{"udp", "tcp"}
	actions = []string{"endpoint", "forward", "refused", "ratelimited"}
	qtypes  = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "HTTPS", "SVCB", "DS", "DNSKEY", "CAA", "ANY", "other"}
)

type counterSlot struct {
	c atomic.Pointer[prometheus.Counter]
}

type observerSlot struct {
	o atomic.Pointer[prometheus.Observer]
}

type fastTables struct {
	requests  [2][16][4]counterSlot
	responses [24]counterSlot
	durations [4]observerSlot
}

func index(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

func qtypeIndex(t uint16) int { return index(qtypes, QtypeLabel(t)) }

// CountRequest adds one to s3dns_requests_total{proto,qtype,action}.
func (m *Metrics) CountRequest(proto string, qtype uint16, action string) {
	p, a := index(protos, proto), index(actions, action)
	if p < 0 || a < 0 {
		m.Requests.WithLabelValues(proto, QtypeLabel(qtype), action).Inc()
		return
	}
	slot := &m.fast.requests[p][qtypeIndex(qtype)][a]
	c := slot.c.Load()
	if c == nil {
		counter := m.Requests.WithLabelValues(proto, QtypeLabel(qtype), action)
		c = &counter
		slot.c.Store(c)
	}
	(*c).Inc()
}

// CountResponse adds one to s3dns_responses_total{rcode}.
func (m *Metrics) CountResponse(rcode int) {
	if rcode < 0 || rcode >= len(m.fast.responses) {
		m.Responses.WithLabelValues(RcodeLabel(rcode)).Inc()
		return
	}
	slot := &m.fast.responses[rcode]
	c := slot.c.Load()
	if c == nil {
		counter := m.Responses.WithLabelValues(RcodeLabel(rcode))
		c = &counter
		slot.c.Store(c)
	}
	(*c).Inc()
}

// ObserveDuration records one query's time in s3dns_request_duration_seconds{action}.
func (m *Metrics) ObserveDuration(action string, seconds float64) {
	a := index(actions, action)
	if a < 0 {
		m.RequestDuration.WithLabelValues(action).Observe(seconds)
		return
	}
	slot := &m.fast.durations[a]
	o := slot.o.Load()
	if o == nil {
		obs := m.RequestDuration.WithLabelValues(action)
		o = &obs
		slot.o.Store(o)
	}
	(*o).Observe(seconds)
}
