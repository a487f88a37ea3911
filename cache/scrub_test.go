package cache

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func owners(rrs []dns.RR) string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.Header().Name+"/"+dns.TypeToString[rr.Header().Rrtype])
	}
	return strings.Join(out, " ")
}

func TestScrubKeepsOnlyWhatBelongsToTheQuestion(t *testing.T) {
	const soa = "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60"
	cases := []struct {
		name                   string
		qname                  string
		qtype                  uint16
		answer, ns, extra      []string
		wantAn, wantNs, wantAr string
	}{
		{
			name:  "records for another name are dropped everywhere",
			qname: "www.example.com.", qtype: dns.TypeA,
			answer: []string{"www.example.com. 60 IN A 192.0.2.1", "victim.test. 60 IN A 203.0.113.66"},
			ns:     []string{"victim.test. 60 IN NS ns.victim.test.", "example.com. 60 IN NS ns1.example.com."},
			extra:  []string{"ns.victim.test. 60 IN A 203.0.113.66", "ns1.example.com. 60 IN A 192.0.2.53"},
			wantAn: "www.example.com./A",
		},
		{
			name:  "an in-zone NS pointing out of zone and its glue are dropped from a positive answer",
			qname: "oob.example.", qtype: dns.TypeA,
			answer: []string{"oob.example. 60 IN A 192.0.2.1"},
			ns:     []string{"oob.example. 60 IN NS ns.victim.test.", "example. 60 IN NS ns.evil.test."},
			extra:  []string{"ns.victim.test. 60 IN A 203.0.113.66", "ns.evil.test. 60 IN A 203.0.113.67"},
			wantAn: "oob.example./A",
		},
		{
			name:  "an NXDOMAIN keeps its SOA and proofs, nothing else",
			qname: "gone.example.com.", qtype: dns.TypeA,
			ns: []string{soa, "example.com. 60 IN NS ns1.example.com.",
				"example.com. 60 IN RRSIG SOA 8 2 60 20300101000000 20200101000000 1 example.com. AAAA"},
			extra:  []string{"ns1.example.com. 60 IN A 192.0.2.53", "junk.test. 60 IN A 203.0.113.9"},
			wantNs: "example.com./SOA example.com./RRSIG",
		},
		{
			name:  "no other data beside a CNAME at the same name (RFC 2181 §10.1)",
			qname: "both.example.com.", qtype: dns.TypeA,
			answer: []string{"both.example.com. 60 IN CNAME t.example.com.", "both.example.com. 60 IN A 203.0.113.5",
				"t.example.com. 60 IN A 192.0.2.6"},
			wantAn: "both.example.com./CNAME t.example.com./A",
		},
		{
			name:  "a DNAME without its CNAME gets it synthesized, with the DNAME's TTL",
			qname: "x.d.example.com.", qtype: dns.TypeA,
			answer: []string{"d.example.com. 60 IN DNAME e.example.com.", "x.e.example.com. 60 IN A 192.0.2.7"},
			wantAn: "d.example.com./DNAME x.d.example.com./CNAME x.e.example.com./A",
		},
		{
			name:  "a positive answer keeps a wildcard's proof inside the signer's zone, not the SOA",
			qname: "w.example.com.", qtype: dns.TypeA,
			answer: []string{"w.example.com. 60 IN A 192.0.2.8",
				"w.example.com. 60 IN RRSIG A 8 2 60 20300101000000 20200101000000 1 example.com. AAAA"},
			ns: []string{soa, "v.example.com. 60 IN NSEC x.example.com. A RRSIG NSEC",
				"v.example.com. 60 IN RRSIG NSEC 8 3 60 20300101000000 20200101000000 1 example.com. AAAA",
				"v.victim.test. 60 IN NSEC x.victim.test. A"},
			wantAn: "w.example.com./A w.example.com./RRSIG", wantNs: "v.example.com./NSEC v.example.com./RRSIG",
		},
		{
			name:  "a CNAME chain out of order is followed, other types at its names dropped",
			qname: "WWW.example.com.", qtype: dns.TypeA,
			answer: []string{"b.example.net. 60 IN A 192.0.2.2", "www.example.com. 60 IN CNAME a.example.org.",
				"a.example.org. 60 IN CNAME b.example.net.", "a.example.org. 60 IN TXT \"x\"", "c.example.net. 60 IN A 192.0.2.3"},
			wantAn: "b.example.net./A www.example.com./CNAME a.example.org./CNAME",
		},
		{
			name:  "a DNAME and its synthesized CNAME stay, with the DNAME's signature",
			qname: "www.old.example.com.", qtype: dns.TypeA,
			answer: []string{"old.example.com. 60 IN DNAME new.example.com.",
				"old.example.com. 60 IN RRSIG DNAME 8 3 60 20300101000000 20200101000000 1 example.com. AAAA",
				"www.old.example.com. 60 IN CNAME www.new.example.com.", "www.new.example.com. 60 IN A 192.0.2.4",
				"other.example.com. 60 IN DNAME elsewhere.test."},
			wantAn: "old.example.com./DNAME old.example.com./RRSIG www.old.example.com./CNAME www.new.example.com./A",
		},
		{
			name:  "NODATA keeps the zone's SOA and its proofs, not another zone's",
			qname: "www.example.com.", qtype: dns.TypeAAAA,
			ns: []string{soa, "www.example.com. 60 IN NSEC z.example.com. A RRSIG NSEC",
				"abc.example.com. 60 IN NSEC3 1 0 0 - ABCD A", "victim.test. 60 IN SOA ns.victim.test. h.victim.test. 1 2 3 4 60",
				"victim.test. 60 IN NSEC z.victim.test. A"},
			wantNs: "example.com./SOA www.example.com./NSEC abc.example.com./NSEC3",
		},
		{
			name:  "an NXDOMAIN behind a CNAME keeps the target zone's SOA",
			qname: "a.example.com.", qtype: dns.TypeA,
			answer: []string{"a.example.com. 60 IN CNAME gone.example.net."},
			ns:     []string{"example.net. 60 IN SOA ns.example.net. h.example.net. 1 2 3 4 60", "example.org. 60 IN SOA ns.example.org. h.example.org. 1 2 3 4 60"},
			wantAn: "a.example.com./CNAME", wantNs: "example.net./SOA",
		},
		{
			name:  "MX targets get no addresses (minimal responses); the root is not a zone",
			qname: "example.com.", qtype: dns.TypeMX,
			answer: []string{"example.com. 60 IN MX 10 mail.example.net."},
			ns:     []string{". 60 IN NS a.root-servers.net."},
			extra:  []string{"mail.example.net. 60 IN A 192.0.2.25", "mail.example.net. 60 IN TXT \"x\"", "unrelated.test. 60 IN A 192.0.2.26"},
			wantAn: "example.com./MX",
		},
		{
			name:  "ANY keeps every type at the name",
			qname: "example.com.", qtype: dns.TypeANY,
			answer: []string{"example.com. 60 IN A 192.0.2.1", "example.com. 60 IN TXT \"x\"", "www.example.com. 60 IN A 192.0.2.1"},
			wantAn: "example.com./A example.com./TXT",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(c.qname, c.qtype)
			m.Answer, m.Ns, m.Extra = rrs(t, c.answer...), rrs(t, c.ns...), rrs(t, c.extra...)
			m.SetEdns0(1232, false)
			scrub(m, strings.ToLower(c.qname), c.qtype)
			if got := owners(m.Answer); got != c.wantAn {
				t.Errorf("answer: %q, want %q", got, c.wantAn)
			}
			if got := owners(m.Ns); got != c.wantNs {
				t.Errorf("authority: %q, want %q", got, c.wantNs)
			}
			extra := slices.DeleteFunc(slices.Clone(m.Extra), func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
			if got := owners(extra); got != c.wantAr {
				t.Errorf("additional: %q, want %q", got, c.wantAr)
			}
			if m.IsEdns0() == nil {
				t.Error("the OPT was dropped")
			}
		})
	}
}
