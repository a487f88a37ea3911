package wire

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func msgOf(t *testing.T, rcode int, qtype uint16, answer, ns, extra []string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.", qtype)
	m.Rcode = rcode
	for _, sec := range []struct {
		in  []string
		out *[]dns.RR
	}{{answer, &m.Answer}, {ns, &m.Ns}, {extra, &m.Extra}} {
		for _, s := range sec.in {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			*sec.out = append(*sec.out, rr)
		}
	}
	return m
}

// One rule decides how long any packed answer lives and which TTLs clients
// see (RFC 2308, RFC 2181 §8, max_ttl as BIND's max-cache-ttl).
func TestLifetimeAndClamp(t *testing.T) {
	const soa = "example. 300 IN SOA ns. mb. 1 2 3 4 120" // MINIMUM 120
	limits := Limits{MaxTTL: time.Hour, NegativeMaxTTL: 5 * time.Minute}
	for _, c := range []struct {
		name      string
		rcode     int
		qtype     uint16
		answer    []string
		ns, extra []string
		limits    Limits
		life      time.Duration
		ttls      []uint32 // every record's TTL after Clamp, in order
	}{
		{name: "positive: the shortest answer", qtype: dns.TypeA,
			answer: []string{"www.example. 60 IN A 192.0.2.1", "www.example. 90 IN A 192.0.2.2"},
			life:   time.Minute, ttls: []uint32{60, 90}},
		{name: "positive: an additional record is shorter (item 7)", qtype: dns.TypeMX,
			answer: []string{"www.example. 94 IN MX 10 mx.example."}, extra: []string{"mx.example. 5 IN A 192.0.2.9"},
			life: 5 * time.Second, ttls: []uint32{94, 5}},
		{name: "max_ttl caps what clients see (item 8)", qtype: dns.TypeA,
			answer: []string{"www.example. 86400 IN A 192.0.2.1"}, extra: []string{"x.example. 7200 IN A 192.0.2.9"},
			life: time.Hour, ttls: []uint32{3600, 3600}},
		{name: "a TTL with the top bit set is 0 (item 8)", qtype: dns.TypeA,
			answer: []string{"www.example. 2147483648 IN A 192.0.2.1"},
			life:   0, ttls: []uint32{0}},
		{name: "NXDOMAIN: SOA MINIMUM", rcode: dns.RcodeNameError, qtype: dns.TypeA,
			ns: []string{soa}, life: 2 * time.Minute, ttls: []uint32{120}},
		{name: "NODATA: negative_max_ttl caps the SOA (item 8)", qtype: dns.TypeTXT, ns: []string{soa},
			limits: Limits{MaxTTL: time.Hour, NegativeMaxTTL: 30 * time.Second}, life: 30 * time.Second, ttls: []uint32{30}},
		{name: "NODATA behind a CNAME: the chain's TTL (item 6)", qtype: dns.TypeAAAA,
			answer: []string{"www.example. 20 IN CNAME cdn.example."}, ns: []string{soa},
			life: 20 * time.Second, ttls: []uint32{20, 120}},
		{name: "NXDOMAIN behind a CNAME: SOA MINIMUM and negative_max_ttl (item 6)", rcode: dns.RcodeNameError, qtype: dns.TypeA,
			answer: []string{"www.example. 3600 IN CNAME gone.example."}, ns: []string{soa},
			limits: Limits{MaxTTL: time.Hour, NegativeMaxTTL: time.Minute}, life: time.Minute, ttls: []uint32{3600, 60}},
		{name: "NODATA behind a CNAME without SOA is not kept", qtype: dns.TypeAAAA,
			answer: []string{"www.example. 20 IN CNAME cdn.example."}, life: 0, ttls: []uint32{20}},
		{name: "NODATA without SOA is not kept", qtype: dns.TypeA, life: 0},
		{name: "SERVFAIL is not kept", rcode: dns.RcodeServerFailure, qtype: dns.TypeA, life: 0},
		{name: "a CNAME query answered by the CNAME is positive", qtype: dns.TypeCNAME,
			answer: []string{"www.example. 20 IN CNAME cdn.example."}, life: 20 * time.Second, ttls: []uint32{20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := msgOf(t, c.rcode, c.qtype, c.answer, c.ns, c.extra)
			l := limits
			if c.limits != (Limits{}) {
				l = c.limits
			}
			l.Clamp(m)
			var ttls []uint32
			for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
				for _, rr := range s {
					ttls = append(ttls, rr.Header().Ttl)
				}
			}
			if got := l.Lifetime(m); got != c.life {
				t.Errorf("lifetime %v, want %v", got, c.life)
			}
			if len(ttls) != len(c.ttls) {
				t.Fatalf("TTLs %v, want %v", ttls, c.ttls)
			}
			for i := range ttls {
				if ttls[i] != c.ttls[i] {
					t.Fatalf("TTLs %v, want %v", ttls, c.ttls)
				}
			}
		})
	}
	truncated := msgOf(t, dns.RcodeSuccess, dns.TypeA, []string{"www.example. 60 IN A 192.0.2.1"}, nil, nil)
	truncated.Truncated = true
	if limits.Lifetime(truncated) != 0 {
		t.Fatal("truncated reply kept")
	}
}
