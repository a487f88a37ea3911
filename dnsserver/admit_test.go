package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// withOption adds a raw EDNS option to m's OPT (made with EDNS0_LOCAL, so
// that malformed contents can be sent).
func withOption(m *dns.Msg, code uint16, data []byte) *dns.Msg {
	m = withEDNS(m, 1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: code, Data: data})
	return m
}

// Item 5: malformed EDNS options get FORMERR with an OPT, over UDP and TCP,
// for a name whose answer is cached (fast path) and one that is not (full
// path); well-formed ones are answered.
func TestMalformedEDNSOptions(t *testing.T) {
	h := start(t, baseConfig())
	h.query(t, listed, dns.TypeA) // packed: the fast path would answer it
	const ecs, cookie, keepalive = dns.EDNS0SUBNET, dns.EDNS0COOKIE, dns.EDNS0TCPKEEPALIVE
	for _, c := range []struct {
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
		for _, network := range []string{"udp", "tcp"} {
			for _, name := range []string{listed, unlisted} {
				t.Run(c.name+"/"+network+"/"+name, func(t *testing.T) {
					resp := h.ask(t, network, withOption(question(name, dns.TypeA), c.code, c.data))
					if resp.Rcode != c.rcode || resp.IsEdns0() == nil {
						t.Fatalf("rcode %s, OPT %v; want %s with an OPT", dns.RcodeToString[resp.Rcode], resp.IsEdns0() != nil, dns.RcodeToString[c.rcode])
					}
				})
			}
		}
	}
}

// Item 11: the FORMERR for a query with no question or two still carries
// an OPT when the query had one (RFC 6891 §7), over UDP and TCP.
func TestFormerrForQuestionCountCarriesOPT(t *testing.T) {
	h := start(t, baseConfig())
	none := withEDNS(new(dns.Msg), 1232, true)
	two := withEDNS(question(unlisted, dns.TypeA), 1232, true)
	two.Question = append(two.Question, dns.Question{Name: listed, Qtype: dns.TypeA, Qclass: dns.ClassINET})
	for name, m := range map[string]*dns.Msg{"no question": none, "two questions": two} {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(name+"/"+network, func(t *testing.T) {
				pkt, err := m.Pack()
				if err != nil {
					t.Fatal(err)
				}
				var resp dns.Msg
				if err := resp.Unpack(rawExchange(t, network, h.addr, pkt)); err != nil {
					t.Fatal(err)
				}
				opt := resp.IsEdns0()
				if resp.Rcode != dns.RcodeFormatError || opt == nil || !opt.Do() || resp.Id != m.Id {
					t.Fatalf("rcode %s, OPT %v; want FORMERR with an OPT echoing DO", dns.RcodeToString[resp.Rcode], opt)
				}
			})
		}
	}
}
