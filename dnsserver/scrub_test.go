package dnsserver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Issue 17, item 4 (RFC 2181 §5.4.1, RFC 5452 §6): an upstream that adds
// records for another name — an A in the answer, an NS and its glue — gets
// none of them to the client, on the full path, from the cache, and in an
// endpoint answer's chased target.
func TestForwardedAnswersCarryOnlyTheQuestion(t *testing.T) {
	up := dnstest.NewUpstream(t, publicZone...)
	up.Plant(t, dnstest.AnswerSection, "victim.test. 3600 IN A 203.0.113.66")
	up.Plant(t, dnstest.AuthoritySection, "victim.test. 3600 IN NS ns.victim.test.")
	up.Plant(t, dnstest.AdditionalSection, "ns.victim.test. 3600 IN A 203.0.113.66")
	h := startWith(t, baseConfig(), up)
	for _, c := range []struct {
		name   string
		qtype  uint16
		answer int
	}{
		{unlisted, dns.TypeA, 1},
		{listed, dns.TypeA, 3}, // the CNAME and the endpoint's two addresses
		{"nothing.example.", dns.TypeA, 0},
	} {
		for _, network := range []string{"udp", "udp", "tcp"} { // full path, then cached
			resp := h.ask(t, network, question(c.name, c.qtype))
			for _, rr := range append(append(resp.Answer, resp.Ns...), resp.Extra...) {
				if strings.HasSuffix(rr.Header().Name, "victim.test.") {
					t.Fatalf("%s over %s carries %v", c.name, network, rr)
				}
			}
			if len(resp.Answer) != c.answer {
				t.Fatalf("%s over %s: %d answer records, want %d: %v", c.name, network, len(resp.Answer), c.answer, resp)
			}
		}
	}
}
