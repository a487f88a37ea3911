package metrics

import (
	"sync/atomic"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// The per-query metrics are updated through small tables of children made
// on first use: WithLabelValues hashes its labels on every call, which the
// fast path cannot afford. Each table is sized from the list its labels
// come from, so that no value can index past it.

// Proto is the transport a query came over.
type Proto uint8

const (
	UDP Proto = iota
	TCP
	TLS   // DNS over TLS (RFC 7858)
	HTTPS // DNS over HTTPS (RFC 8484), with or without TLS in front
	numProtos
)

var protoLabels = [numProtos]string{UDP: "udp", TCP: "tcp", TLS: "tls", HTTPS: "https"}

func (p Proto) String() string { return protoLabels[p] }

// Socket is the proto label: the socket protocol under the transport (TLS
// and HTTPS run over TCP).
func (p Proto) Socket() string {
	if p == UDP {
		return "udp"
	}
	return "tcp"
}

// Action is how a query was answered.
type Action uint8

const (
	ActionEndpoint Action = iota
	ActionForward
	ActionRefused
	ActionLimited
	numActions
	// ActionInvalid: a malformed or unsupported query, answered with an
	// error but not counted as a request.
	ActionInvalid = numActions
)

var actionLabels = [numActions]string{ActionEndpoint: "endpoint", ActionForward: "forward",
	ActionRefused: "refused", ActionLimited: "ratelimited"}

func (a Action) String() string {
	if a >= numActions {
		return "invalid"
	}
	return actionLabels[a]
}

// qtypeLabels are the query types with a label of their own; the last
// slot, "other", counts the rest.
var qtypeLabels = [...]string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "HTTPS", "SVCB",
	"DS", "DNSKEY", "CAA", "ANY", "other"}

const otherQtype = len(qtypeLabels) - 1

// qtypeSlot maps a type below len to its label's index (+1; 0 is "other").
var qtypeSlot [dns.TypeCAA + 1]uint8

func init() {
	for i, l := range qtypeLabels[:otherQtype] {
		qtypeSlot[dns.StringToType[l]] = uint8(i + 1)
	}
}

func qtypeIndex(t uint16) int {
	if int(t) < len(qtypeSlot) && qtypeSlot[t] != 0 {
		return int(qtypeSlot[t]) - 1
	}
	return otherQtype
}

// QtypeLabel bounds the qtype label to a fixed list.
func QtypeLabel(t uint16) string { return qtypeLabels[qtypeIndex(t)] }

const numRcodes = 24

type counterSlot struct {
	c atomic.Pointer[prometheus.Counter]
}

type observerSlot struct {
	o atomic.Pointer[prometheus.Observer]
}

type fastTables struct {
	requests  [numProtos][len(qtypeLabels)][numActions]counterSlot
	responses [numRcodes]counterSlot
	durations [numProtos][numActions]observerSlot
}

func (s *counterSlot) get(make func() prometheus.Counter) prometheus.Counter {
	if c := s.c.Load(); c != nil {
		return *c
	}
	c := make()
	s.c.Store(&c)
	return c
}

// CountRequest adds one to s3dns_requests_total{proto,transport,qtype,action}
// for a query no endpoint answered (its endpoint label is empty).
func (m *Metrics) CountRequest(p Proto, qtype uint16, a Action) {
	if a >= numActions {
		return
	}
	qi := qtypeIndex(qtype)
	m.fast.requests[p][qi][a].get(func() prometheus.Counter {
		return m.Requests.WithLabelValues(p.Socket(), p.String(), qtypeLabels[qi], a.String(), "")
	}).Inc()
}

// CountResponse adds one to s3dns_responses_total{rcode}.
func (m *Metrics) CountResponse(rcode int) {
	if rcode < 0 || rcode >= numRcodes {
		m.Responses.WithLabelValues(RcodeLabel(rcode)).Inc()
		return
	}
	m.fast.responses[rcode].get(func() prometheus.Counter {
		return m.Responses.WithLabelValues(RcodeLabel(rcode))
	}).Inc()
}

// ObserveDuration records one query's time in
// s3dns_request_duration_seconds{action,transport}.
func (m *Metrics) ObserveDuration(p Proto, a Action, seconds float64) {
	if a >= numActions || p >= numProtos {
		return
	}
	slot := &m.fast.durations[p][a]
	o := slot.o.Load()
	if o == nil {
		obs := m.RequestDuration.WithLabelValues(a.String(), p.String())
		o = &obs
		slot.o.Store(o)
	}
	(*o).Observe(seconds)
}
