package dnsserver

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
)

// withOption adds a raw EDNS option to m's OPT (made with EDNS0_LOCAL, so
// that malformed contents can be sent).
func withOption(m *dns.Msg, code uint16, data []byte) *dns.Msg {
	m = withEDNS(m, 1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: code, Data: data})
	return m
}

const (
	inside  = "127.0.0.1" // in access.allow
	outside = "127.0.0.2" // not
	noReply = -1
)

// admission is one case of step 1: a packet, who sends it, and the rcode
// it gets (noReply: none at all).
type admission struct {
	name  string
	pkt   []byte
	from  string
	rcode int
	// name to have cached first, so that the fast path would answer it
	// ("" : none), and what else the reply must show.
	warm  string
	check func(*testing.T, *dns.Msg)
}

// Step 1, admission (README "Protocol"), every rule in one table, over UDP
// and TCP, each case before and after its name is cached (the fast path
// must not answer past a gate): the order of the gates (a client outside
// access.allow is refused before anything else is said to it, and gets
// nothing for a packet whose question does not parse), NOTIMP, REFUSED for
// transfers and other classes, FORMERR, BADVERS, BADKEY, RD=0, malformed
// EDNS options, and an OPT on every error to a query that had one (RFC 6891
// §7). Nothing rejected goes upstream.
func TestAdmission(t *testing.T) {
	h := flow(t, baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"allow": []string{inside + "/32"}} }))
	var cases []admission
	add := func(name string, m *dns.Msg, from string, rcode int, check ...func(*testing.T, *dns.Msg)) {
		pkt, err := m.Pack()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := admission{name: name, pkt: pkt, from: from, rcode: rcode}
		if len(m.Question) == 1 {
			c.warm = m.Question[0].Name
		}
		if len(check) > 0 {
			c.check = check[0]
		}
		cases = append(cases, c)
	}
	edns := func(m *dns.Msg) *dns.Msg { return withEDNS(m, 1232, true) }
	opcode := func(op int) *dns.Msg { m := edns(question(unlisted, dns.TypeSOA)); m.Opcode = op; return m }
	class := func(name string, qtype, qclass uint16) *dns.Msg {
		m := question(name, qtype)
		m.Question[0].Qclass = qclass
		return m
	}
	norecurse := func(name string) *dns.Msg { m := question(name, dns.TypeA); m.RecursionDesired = false; return m }
	answers := func(n int) func(*testing.T, *dns.Msg) {
		return func(t *testing.T, r *dns.Msg) {
			if len(r.Answer) != n || r.RecursionDesired {
				t.Fatalf("want %d answers and RD clear: %v", n, r)
			}
		}
	}
	twoOPT := edns(question(unlisted, dns.TypeA))
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	badVersion := edns(question(unlisted, dns.TypeA))
	badVersion.IsEdns0().SetVersion(1)
	noQuestion := edns(new(dns.Msg))
	noQuestion.Id = 7
	twoQuestions := edns(question(unlisted, dns.TypeA))
	twoQuestions.Question = append(twoQuestions.Question, dns.Question{Name: listed, Qtype: dns.TypeA, Qclass: dns.ClassINET})
	withAnswer := question(unlisted, dns.TypeA)
	rr, _ := dns.NewRR(unlisted + " 1 IN A 192.0.2.1")
	withAnswer.Answer = []dns.RR{rr}
	ixfr := question("s3.eu-west-2.amazonaws.com.", dns.TypeIXFR)
	soa, _ := dns.NewRR("s3.eu-west-2.amazonaws.com. 0 IN SOA ns. mb. 1 0 0 0 0")
	ixfr.Ns = []dns.RR{soa}

	// The gates in order: outside access.allow before any other check.
	for _, from := range []string{inside, outside} {
		refusedOutside := func(r int) int {
			if from == outside {
				return dns.RcodeRefused
			}
			return r
		}
		add("a plain query from "+from, edns(question(unlisted, dns.TypeA)), from, refusedOutside(dns.RcodeSuccess))
		add("NOTIFY from "+from, opcode(dns.OpcodeNotify), from, refusedOutside(dns.RcodeNotImplemented))
		add("UPDATE from "+from, opcode(dns.OpcodeUpdate), from, refusedOutside(dns.RcodeNotImplemented))
		add("two OPT records from "+from, twoOPT, from, refusedOutside(dns.RcodeFormatError))
		add("EDNS version 1 from "+from, badVersion, from, refusedOutside(dns.RcodeBadVers))
		add("QTYPE OPT from "+from, edns(question(unlisted, dns.TypeOPT)), from, refusedOutside(dns.RcodeFormatError))
		add("a listed bucket from "+from, question(listed, dns.TypeA), from, refusedOutside(dns.RcodeSuccess))
	}
	// No question: FORMERR with the OPT echoing DO; from outside, nothing.
	add("no question", noQuestion, inside, dns.RcodeFormatError)
	add("no question from outside", noQuestion, outside, noReply)
	add("two questions", twoQuestions, inside, dns.RcodeFormatError)
	add("answer section in a query", withAnswer, inside, dns.RcodeFormatError)
	// Zone transfers and classes other than IN are never forwarded.
	add("AXFR", question("s3.eu-west-2.amazonaws.com.", dns.TypeAXFR), inside, dns.RcodeRefused)
	add("IXFR with an SOA", ixfr, inside, dns.RcodeRefused)
	add("IXFR without", question("s3.eu-west-2.amazonaws.com.", dns.TypeIXFR), inside, dns.RcodeRefused)
	add("CH version.bind", class("version.bind.", dns.TypeTXT, dns.ClassCHAOS), inside, dns.RcodeRefused)
	add("CH hostname.bind", class("hostname.bind.", dns.TypeTXT, dns.ClassCHAOS), inside, dns.RcodeRefused)
	add("CH id.server", class("id.server.", dns.TypeTXT, dns.ClassCHAOS), inside, dns.RcodeRefused)
	add("class ANY", class(unlisted, dns.TypeA, dns.ClassANY), inside, dns.RcodeRefused)
	add("HS", class(unlisted, dns.TypeA, dns.ClassHESIOD), inside, dns.RcodeRefused)
	add("CH for a listed bucket", class(listed, dns.TypeA, dns.ClassCHAOS), inside, dns.RcodeRefused)
	// RD=0: answered for the served zones and the endpoint's own hostname
	// (issue 17, item 8), refused elsewhere, cached or not.
	add("RD=0 listed", norecurse(listed), inside, dns.RcodeSuccess, answers(3))
	add("RD=0 unlisted bucket in a served zone", norecurse(unlisted), inside, dns.RcodeSuccess, answers(1))
	add("RD=0 the endpoint's hostname", norecurse(vpce), inside, dns.RcodeSuccess, answers(2))
	add("RD=0 elsewhere", norecurse("www.example."), inside, dns.RcodeRefused, answers(0))
	add("RD=0 not a served zone", norecurse("myspecificbucket.s3-fips.eu-west-2.amazonaws.com."), inside, dns.RcodeRefused, answers(0))
	// TSIG: s3dns holds no keys: BADKEY, with the TSIG echoed unsigned.
	signed := withEDNS(question(unlisted, dns.TypeA), 1232, false)
	signed.SetTsig("transfer-key.", dns.HmacSHA256, 300, time.Now().Unix())
	pkt, _, err := dns.TsigGenerate(signed, "c2VjcmV0c2VjcmV0c2VjcmV0", "", false)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, admission{name: "unknown TSIG key", pkt: pkt, from: inside, rcode: dns.RcodeNotAuth, warm: unlisted,
		check: func(t *testing.T, r *dns.Msg) {
			tsig := r.IsTsig()
			if tsig == nil || tsig.Error != dns.RcodeBadKey || tsig.Hdr.Name != "transfer-key." || tsig.MACSize != 0 {
				t.Fatalf("want a BADKEY TSIG without a MAC: %v", r)
			}
		}})
	// EDNS options that do not parse (RFC 7871, 7873, 7828).
	const ecs, cookie, keepalive = dns.EDNS0SUBNET, dns.EDNS0COOKIE, dns.EDNS0TCPKEEPALIVE
	for _, o := range []struct {
		name  string
		code  uint16
		data  []byte
		rcode int
	}{
		{"cookie of 8 bytes", cookie, make([]byte, 8), dns.RcodeSuccess},
		{"cookie of 24 bytes", cookie, make([]byte, 24), dns.RcodeSuccess},
		{"cookie of 7 bytes", cookie, make([]byte, 7), dns.RcodeFormatError},
		{"cookie of 12 bytes", cookie, make([]byte, 12), dns.RcodeFormatError},
		{"cookie of 41 bytes", cookie, make([]byte, 41), dns.RcodeFormatError},
		{"ECS 192.0.2.0/24", ecs, []byte{0, 1, 24, 0, 192, 0, 2}, dns.RcodeSuccess},
		{"ECS /0", ecs, []byte{0, 1, 0, 0}, dns.RcodeSuccess},
		{"ECS /24 with 4 address bytes", ecs, []byte{0, 1, 24, 0, 192, 0, 2, 0}, dns.RcodeFormatError},
		{"ECS /24 with 2 address bytes", ecs, []byte{0, 1, 24, 0, 192, 0}, dns.RcodeFormatError},
		{"ECS /33 for IPv4", ecs, []byte{0, 1, 33, 0, 1, 2, 3, 4, 5}, dns.RcodeFormatError},
		{"ECS with a scope in a query", ecs, []byte{0, 1, 24, 24, 192, 0, 2}, dns.RcodeFormatError},
		{"ECS with bits past the prefix", ecs, []byte{0, 1, 23, 0, 192, 0, 3}, dns.RcodeFormatError},
		{"ECS of an unknown family", ecs, []byte{0, 3, 8, 0, 1}, dns.RcodeFormatError},
		{"ECS shorter than its header", ecs, []byte{0, 1, 0}, dns.RcodeFormatError},
		{"keepalive without a timeout", keepalive, nil, dns.RcodeSuccess},
		{"keepalive with a timeout", keepalive, []byte{0, 100}, dns.RcodeFormatError},
	} {
		for _, name := range []string{listed, unlisted} {
			add(o.name+" for "+name, withOption(question(name, dns.TypeA), o.code, o.data), inside, o.rcode)
		}
	}
	for _, name := range []string{listed, unlisted} {
		plain, _ := withEDNS(question(name, dns.TypeA), 1232, false).Pack()
		bad := appendRawOption(plain, []byte{0, 10, 0, 8, 1, 2}) // claims 8 bytes, has 2
		cases = append(cases, admission{name: "an option past the OPT's end for " + name, pkt: bad, from: inside, rcode: dns.RcodeFormatError, warm: name})
	}
	// A response is never answered; nor a packet cut short from outside.
	response := question(unlisted, dns.TypeA)
	response.Response = true
	add("a response", response, inside, noReply)
	cut, _ := question(unlisted, dns.TypeA).Pack()
	cases = append(cases, admission{name: "a packet cut short from outside", pkt: cut[:len(cut)-3], from: outside, rcode: noReply})

	for _, proto := range []metrics.Proto{metrics.UDP, metrics.TCP} {
		for _, c := range cases {
			for _, warm := range []bool{false, true} {
				t.Run(proto.String()+"/"+c.name+map[bool]string{true: "/cached"}[warm], func(t *testing.T) {
					if warm && c.warm != "" {
						h.from(inside, proto).ask(t, question(c.warm, dns.TypeA))
					}
					asked := h.up.Total()
					r := h.from(c.from, proto).unpack(t, c.pkt)
					switch {
					case c.rcode == noReply && r != nil:
						t.Fatalf("answered: %v", r)
					case c.rcode == noReply:
						return
					case r == nil:
						t.Fatal("no reply")
					case r.Rcode != c.rcode:
						t.Fatalf("rcode %s, want %s: %v", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], r)
					}
					var q dns.Msg
					_ = q.Unpack(c.pkt)
					if r.Id != q.Id {
						t.Errorf("ID %d, want %d", r.Id, q.Id)
					}
					if opt := q.IsEdns0(); opt != nil && (r.IsEdns0() == nil || r.IsEdns0().Do() != opt.Do()) {
						t.Errorf("the query had an OPT (DO %v); the reply's: %v", opt.Do(), r.IsEdns0())
					}
					if c.rcode != dns.RcodeSuccess && h.up.Total() != asked {
						t.Errorf("a rejected query went upstream")
					}
					if c.check != nil {
						c.check(t, r)
					}
				})
			}
		}
	}
}
