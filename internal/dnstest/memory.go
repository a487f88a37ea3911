package dnstest

import (
	"context"
	"net"

	"github.com/miekg/dns"
)

// MemoryUpstream is an upstream without I/O, for benchmarks and fuzzing:
// every A query gets 192.0.2.1 (TTL 3600), other types NODATA.
type MemoryUpstream struct{}

// Exchange answers q in memory; it is named "memory".
func (MemoryUpstream) Exchange(_ context.Context, q *dns.Msg) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetReply(q)
	if q.Question[0].Qtype == dns.TypeA {
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
			A: net.IPv4(192, 0, 2, 1)}}
	}
	return m, "memory", nil
}
