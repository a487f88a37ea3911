package integration

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// craftedUpstream is an upstream that answers each name with the sections
// a case gives, records beyond the question included: what a careless or
// hostile server sends. Other names get NXDOMAIN.
func craftedUpstream(t *testing.T, replies map[string]func(m *dns.Msg)) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if fill, ok := replies[strings.ToLower(req.Question[0].Name)+dns.TypeToString[req.Question[0].Qtype]]; ok {
			fill(m)
		} else {
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{mustParse(t, "example. 60 IN SOA ns.example. h.example. 1 2 3 4 60")}
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: handler}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func mustParse(t *testing.T, s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return rr
}

// sectionsByDig asks server with dig and lists each section's records as
// "owner type" lines, sorted: what a client sees, TTLs aside.
func sectionsByDig(t *testing.T, digPath, server, name string) [3][]string {
	t.Helper()
	var out [3][]string
	for i, section := range []string{"+answer", "+authority", "+additional"} {
		for _, line := range strings.Split(dig(t, digPath, server, "+noall", section, name, "A"), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 || strings.HasPrefix(line, ";") {
				continue
			}
			out[i] = append(out[i], strings.ToLower(f[0])+" "+f[3])
		}
		slices.Sort(out[i])
	}
	return out
}

// Forwarded answers are as minimal as Unbound's (issue 30, item 4): the
// same upstream replies, carrying records beyond the question, reach a
// client of s3dns and a client of Unbound (minimal-responses, its default)
// with the same records in each section.
func TestForwardedAnswersAsMinimalAsUnbound(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	rr := func(s string) dns.RR { return mustParse(t, s) }
	soa := "example. 60 IN SOA ns.example. h.example. 1 2 3 4 60"
	up := craftedUpstream(t, map[string]func(m *dns.Msg){
		"oob.example.A": func(m *dns.Msg) { // an in-zone NS pointing out of zone, and its glue
			m.Answer = []dns.RR{rr("oob.example. 60 IN A 192.0.2.1")}
			m.Ns = []dns.RR{rr("oob.example. 60 IN NS ns.victim.test.")}
			m.Extra = []dns.RR{rr("ns.victim.test. 60 IN A 192.0.2.66")}
		},
		"anc.example.A": func(m *dns.Msg) { // an ancestor's NS and glue
			m.Answer = []dns.RR{rr("anc.example. 60 IN A 192.0.2.2")}
			m.Ns = []dns.RR{rr("example. 60 IN NS ns.evil.test.")}
			m.Extra = []dns.RR{rr("ns.evil.test. 60 IN A 192.0.2.67")}
		},
		"nx.example.A": func(m *dns.Msg) { // unreferenced extra records on an NXDOMAIN
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{rr(soa)}
			m.Extra = []dns.RR{rr("junk.test. 60 IN A 192.0.2.68")}
		},
		"both.example.A": func(m *dns.Msg) { // a CNAME and other data at one name
			m.Answer = []dns.RR{rr("both.example. 60 IN CNAME t.example."), rr("both.example. 60 IN A 192.0.2.5"),
				rr("t.example. 60 IN A 192.0.2.6")}
		},
		"t.example.A": func(m *dns.Msg) { m.Answer = []dns.RR{rr("t.example. 60 IN A 192.0.2.6")} },
		"x.d.example.A": func(m *dns.Msg) { // a DNAME without its synthesized CNAME
			m.Answer = []dns.RR{rr("d.example. 60 IN DNAME e.example."), rr("x.e.example. 60 IN A 192.0.2.7")}
		},
		"x.e.example.A": func(m *dns.Msg) { m.Answer = []dns.RR{rr("x.e.example. 60 IN A 192.0.2.7")} },
	})
	s := s3dnsFor(t, up, []endpoint{listedEndpoint})
	unbound := startUnbound(t, up, "", "")
	for _, name := range []string{"oob.example.", "anc.example.", "nx.example.", "both.example.", "x.d.example."} {
		ours, theirs := sectionsByDig(t, digPath, s.dns, name), sectionsByDig(t, digPath, unbound.addr, name)
		for i, section := range []string{"answer", "authority", "additional"} {
			if !slices.Equal(ours[i], theirs[i]) {
				t.Errorf("%s, %s section: s3dns %q, Unbound %q", name, section, ours[i], theirs[i])
			}
		}
		if name != "nx.example." && len(ours[0]) == 0 {
			t.Errorf("%s: no answer", name)
		}
	}
}
