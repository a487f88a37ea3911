package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func TestParse(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("MyBucket.s3.eu-west-2.amazonaws.com.", dns.TypeAAAA)
	q.Id = 0xbeef
	q.CheckingDisabled = true
	got, p := Parse(pack(t, q))
	if p != Fine || got.ID != 0xbeef || got.Qtype != dns.TypeAAAA || got.Qclass != dns.ClassINET || got.HasOPT ||
		got.MaxUDP() != 512 || got.Opts() != OptCD {
		t.Fatalf("plain: %+v %v", got, p)
	}
	if name := Presentation(got.Name); name != "MyBucket.s3.eu-west-2.amazonaws.com." {
		t.Fatalf("name %q", name)
	}
	q.SetEdns0(4096, true)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	got, p = Parse(pack(t, q))
	if p != Fine || !got.HasOPT || !got.DO || got.UDPSize != 4096 || got.MaxUDP() != MaxUDPSize || got.Opts() != OptDO|OptCD {
		t.Fatalf("EDNS: %+v %v", got, p)
	}
	valid := pack(t, q)
	for cut := range len(valid) {
		if _, p := Parse(valid[:cut]); p == Fine {
			t.Fatalf("accepted a query cut at %d bytes", cut)
		}
	}
	// Trailing bytes after the last record are ignored, as Unbound and
	// BIND do: the query is answered.
	if got, p := Parse(append(valid, 0, 1, 2)); p != Fine || got.Qtype != dns.TypeAAAA || !got.HasOPT {
		t.Fatalf("trailing bytes: %+v %v", got, p)
	}
}

// Two client subnet options: the first decides and the second is not even
// checked, as BIND takes the first.
func TestParseTwoECSOptionsTakesTheFirst(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("a.example.", dns.TypeA)
	m.SetEdns0(1232, false)
	first := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("10.1.2.0").To4()}
	second := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 16, Address: net.ParseIP("10.3.0.0").To4()}
	m.IsEdns0().Option = append(m.IsEdns0().Option, first, second)
	got, p := Parse(pack(t, m))
	if p != Fine || !got.HasECS || got.ECSSource != 24 || got.ECSAddr() != netip.MustParseAddr("10.1.2.0") {
		t.Fatalf("two ECS options: %+v %v", got, p)
	}
}

func TestParseProblems(t *testing.T) {
	tsig := &dns.TSIG{Hdr: dns.RR_Header{Name: "key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY}, Algorithm: dns.HmacSHA256,
		TimeSigned: 1, Fudge: 300, MACSize: 0, OrigId: 1}
	for _, c := range []struct {
		name    string
		mutate  func(m *dns.Msg)
		want    Problem
		withOPT bool
		raw     func(b []byte) []byte
	}{
		{name: "response", mutate: func(m *dns.Msg) { m.Response = true }, want: NotQuery},
		{name: "notify with an SOA", mutate: func(m *dns.Msg) {
			m.Opcode = dns.OpcodeNotify
			m.Answer = []dns.RR{mustRR(t, "a. 1 IN SOA ns. mb. 1 2 3 4 5")}
		}, want: BadOpcode},
		{name: "two questions", mutate: func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, want: Malformed},
		{name: "no question", mutate: func(m *dns.Msg) { m.Question = nil }, want: Malformed},
		{name: "answer section", mutate: func(m *dns.Msg) { m.Answer = []dns.RR{mustRR(t, "a. 1 IN A 192.0.2.1")} }, want: Malformed},
		{name: "TC set", mutate: func(m *dns.Msg) { m.Truncated = true }, want: Malformed},
		{name: "EDNS version 1", mutate: func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }, want: BadVersion, withOPT: true},
		{name: "two OPTs", mutate: func(m *dns.Msg) { m.SetEdns0(1232, false); m.Extra = append(m.Extra, m.Extra[0]) }, want: Malformed, withOPT: true},
		{name: "IXFR with an SOA", mutate: func(m *dns.Msg) {
			m.Question[0].Qtype = dns.TypeIXFR
			m.Ns = []dns.RR{mustRR(t, "a. 1 IN SOA ns. mb. 1 2 3 4 5")}
		}, want: Fine},
		{name: "TSIG last", mutate: func(m *dns.Msg) { m.SetEdns0(1232, false); m.Extra = append(m.Extra, tsig) }, want: Fine, withOPT: true},
		{name: "TSIG not last", mutate: func(m *dns.Msg) {
			m.Extra = []dns.RR{tsig, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}}
		}, want: Malformed, withOPT: true},
		{name: "EDNS option past its end", mutate: func(m *dns.Msg) { m.SetEdns0(1232, false) }, want: Malformed, withOPT: true,
			raw: func(b []byte) []byte {
				// An option header claiming 8 bytes with none after it.
				b = append(b, 0, 10, 0, 8)
				b[len(b)-5] = 4 // rdlength 4: the option header alone
				return b
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("a.example.", dns.TypeA)
			c.mutate(m)
			b := pack(t, m)
			if c.raw != nil {
				b = c.raw(b)
			}
			got, p := Parse(b)
			if p != c.want || got.HasOPT != c.withOPT {
				t.Fatalf("problem %v, OPT %v; want %v, %v", p, got.HasOPT, c.want, c.withOPT)
			}
		})
	}
}

func TestAppendError(t *testing.T) {
	req := new(dns.Msg)
	req.SetQuestion("a.example.", dns.TypeA)
	req.Opcode = dns.OpcodeStatus
	req.CheckingDisabled = true
	req.SetEdns0(4096, true)
	q, _ := Parse(pack(t, req))
	var got dns.Msg
	if err := got.Unpack(AppendError(nil, &q, dns.RcodeBadVers)); err != nil {
		t.Fatal(err)
	}
	opt := got.IsEdns0()
	if got.Id != req.Id || !got.Response || got.Opcode != dns.OpcodeStatus || !got.RecursionDesired || !got.CheckingDisabled ||
		got.Rcode != dns.RcodeBadVers || len(got.Question) != 1 || opt == nil || !opt.Do() || opt.UDPSize() != MaxUDPSize {
		t.Fatalf("reply %v", &got)
	}
	if !got.RecursionAvailable {
		t.Fatalf("BADVERS without RA: %v", &got)
	}
	// FORMERR and NOTIMP clear RA (AA and AD are never set), as BIND and
	// Unbound do; REFUSED and SERVFAIL keep it.
	q.Flags |= 1<<10 | 1<<7 | 1<<5 // AA, RA, AD as a client might send them
	for rcode, ra := range map[int]bool{dns.RcodeFormatError: false, dns.RcodeNotImplemented: false,
		dns.RcodeRefused: true, dns.RcodeServerFailure: true} {
		if err := got.Unpack(AppendError(nil, &q, rcode)); err != nil || got.Rcode != rcode ||
			got.RecursionAvailable != ra || got.Authoritative || got.AuthenticatedData {
			t.Fatalf("%s: RA %v AA %v AD %v, want RA %v: %v", dns.RcodeToString[rcode], got.RecursionAvailable,
				got.Authoritative, got.AuthenticatedData, ra, err)
		}
	}
	q.Name = nil // the question did not parse
	if err := got.Unpack(AppendError(nil, &q, dns.RcodeFormatError)); err != nil || len(got.Question) != 0 || got.Rcode != dns.RcodeFormatError {
		t.Fatalf("reply without question: %v %v", &got, err)
	}
}

func endpointAnswer(t testing.TB) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetQuestion("mybucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	resp.Response, resp.Authoritative, resp.RecursionAvailable = true, true, true
	for _, s := range []string{
		"mybucket.s3.eu-west-2.amazonaws.com. 60 IN CNAME vpce-1.s3.eu-west-2.vpce.amazonaws.com.",
		"vpce-1.s3.eu-west-2.vpce.amazonaws.com. 50 IN A 10.0.0.1",
		"vpce-1.s3.eu-west-2.vpce.amazonaws.com. 5 IN A 10.0.0.2",
	} {
		resp.Answer = append(resp.Answer, mustRR(t, s))
	}
	return resp
}

// cnameFixed keeps the synthesized CNAME's TTL, as endpoint answers do.
var cnameFixed = Aging{Fixed: func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeCNAME }}

func TestEntryAppend(t *testing.T) {
	const t0 = int64(1_700_000_000) * 1e9
	e, err := Build(endpointAnswer(t), cnameFixed, OptDO, t0, t0+5e9)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("MyBucket.S3.eu-west-2.amazonaws.com.", dns.TypeA)
	req.Id = 4321
	req.SetEdns0(1232, true)
	q, p := Parse(pack(t, req))
	if p != Fine {
		t.Fatal("query not parsed")
	}
	lname := LowerName(nil, q.Name)
	if !e.Matches(lname, q.Qtype, q.Qclass, OptDO) || e.Matches(lname, dns.TypeAAAA, q.Qclass, OptDO) || e.Matches(lname, q.Qtype, q.Qclass, OptDO|OptCD) {
		t.Fatal("Matches")
	}
	out := e.Append([]byte("prefix"), &q, t0+3_500_000_000, 0)
	if !bytes.HasPrefix(out, []byte("prefix")) {
		t.Fatal("dst not kept")
	}
	var got dns.Msg
	if err := got.Unpack(out[len("prefix"):]); err != nil {
		t.Fatal(err)
	}
	if got.Id != 4321 || !got.Response || !got.Authoritative || !got.RecursionAvailable || !got.RecursionDesired {
		t.Fatalf("header: %v", got.MsgHdr)
	}
	if got.Question[0].Name != "MyBucket.S3.eu-west-2.amazonaws.com." || got.Answer[0].Header().Name != "MyBucket.S3.eu-west-2.amazonaws.com." {
		t.Fatalf("spelling: %v", &got)
	}
	if ttls := [3]uint32{got.Answer[0].Header().Ttl, got.Answer[1].Header().Ttl, got.Answer[2].Header().Ttl}; ttls != [3]uint32{60, 47, 2} {
		t.Fatalf("TTLs %v, want 60 (fixed), 47, 2", ttls)
	}
	opt := got.IsEdns0()
	if opt == nil || opt.UDPSize() != 1232 || !opt.Do() || len(opt.Option) != 0 {
		t.Fatalf("OPT %v", opt)
	}
	m, err := e.Msg(t0 + 10e9)
	if err != nil || m.Answer[2].Header().Ttl != 0 || m.Question[0].Name != "mybucket.s3.eu-west-2.amazonaws.com." {
		t.Fatalf("Msg: %v %v", m, err)
	}
}

// Names inside RDATA, and owners other than the question, keep the spelling
// they were stored with whatever case the asker uses: only owner names equal
// to the question take the asker's spelling.
func TestEntryRespellsOnlyOwnersEqualToTheQuestion(t *testing.T) {
	resp := new(dns.Msg)
	resp.SetQuestion("www.example.com.", dns.TypeA)
	resp.Answer = []dns.RR{
		mustRR(t, "www.example.com. 60 IN CNAME sub.www.example.com."),
		mustRR(t, "sub.www.example.com. 60 IN CNAME example.com."),
		mustRR(t, "example.com. 60 IN A 192.0.2.1"),
	}
	resp.Ns = []dns.RR{mustRR(t, "example.com. 60 IN NS ns.www.example.com.")}
	e, err := Build(resp, Aging{}, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("wWw.ExAmPlE.cOm.", dns.TypeA)
	q, _ := Parse(pack(t, req))
	var got dns.Msg
	if err := got.Unpack(e.Append(nil, &q, 0, 0)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"wWw.ExAmPlE.cOm.\t60\tIN\tCNAME\tsub.www.example.com.",
		"sub.www.example.com.\t60\tIN\tCNAME\texample.com.",
		"example.com.\t60\tIN\tA\t192.0.2.1",
		"example.com.\t60\tIN\tNS\tns.www.example.com.",
	}
	for i, rr := range append(got.Answer, got.Ns...) {
		if rr.String() != want[i] {
			t.Errorf("record %d: %q, want %q", i, rr.String(), want[i])
		}
	}
}

// RFC 2181 §9: an answer that fits once the additional section is dropped
// goes without it and without TC; TC only when answer or authority records
// do not fit.
func TestAppendTruncates(t *testing.T) {
	resp := new(dns.Msg)
	resp.SetQuestion("big.example.", dns.TypeTXT)
	resp.Answer = []dns.RR{mustRR(t, `big.example. 60 IN TXT "`+string(bytes.Repeat([]byte("a"), 200))+`"`)}
	for i := range 20 {
		resp.Extra = append(resp.Extra, mustRR(t, fmt.Sprintf("glue%d.example. 60 IN A 192.0.2.%d", i, i)))
	}
	e, err := Build(resp, Aging{}, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("big.example.", dns.TypeTXT)
	req.SetEdns0(512, false)
	q, _ := Parse(pack(t, req))
	for _, c := range []struct {
		limit           int
		answers, extras int
		tc              bool
	}{
		{0, 1, 21, false}, // 20 A + our OPT
		{1232, 1, 21, false},
		{512, 1, 1, false}, // additional dropped, OPT kept
		{200, 0, 1, true},
	} {
		b := e.Append(nil, &q, 0, c.limit)
		var got dns.Msg
		if err := got.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if c.limit > 0 && len(b) > c.limit || len(got.Answer) != c.answers || len(got.Extra) != c.extras || got.Truncated != c.tc || got.IsEdns0() == nil {
			t.Errorf("limit %d: %d bytes, %d answers, %d additional, TC %v", c.limit, len(b), len(got.Answer), len(got.Extra), got.Truncated)
		}
	}
}

func TestKeyDistinguishes(t *testing.T) {
	n := []byte("\x01a\x07example\x00")
	k := Key(n, 1, 1, 0)
	for _, other := range []uint64{Key(n, 28, 1, 0), Key(n, 1, 3, 0), Key(n, 1, 1, OptDO), Key(n, 1, 1, OptCD),
		Key([]byte("\x01b\x07example\x00"), 1, 1, 0)} {
		if k == other {
			t.Fatal("collision on a different key field")
		}
	}
	if k != Key(n, 1, 1, 0) {
		t.Fatal("not deterministic")
	}
}

func BenchmarkParseAndAppend(b *testing.B) {
	e, _ := Build(endpointAnswer(b), cnameFixed, 0, 0, 1)
	req := new(dns.Msg)
	req.SetQuestion("MyBucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	req.SetEdns0(1232, false)
	packet, _ := req.Pack()
	buf := make([]byte, 0, 1232)
	var lname []byte
	b.ReportAllocs()
	for b.Loop() {
		q, _ := Parse(packet)
		lname = LowerName(lname[:0], q.Name)
		_ = Key(lname, q.Qtype, q.Qclass, q.Opts())
		buf = e.Append(buf[:0], &q, 5e9, q.MaxUDP())
	}
}

// An alias record counts down with its target and never shows more than
// the endpoint's TTL (Aging.Cap): min(60, 300 − elapsed) at every moment,
// as a fresh synthesis would give; synthesized records stay fixed.
func TestAgingCapAndFixed(t *testing.T) {
	const t0 = int64(1_700_000_000) * 1e9
	resp := new(dns.Msg)
	resp.SetQuestion("mybucket.s3.us-east-1.amazonaws.com.", dns.TypeA)
	resp.Response = true
	alias := mustRR(t, "mybucket.s3.us-east-1.amazonaws.com. 300 IN A 10.0.0.1")
	soa := mustRR(t, "s3.us-east-1.amazonaws.com. 60 IN SOA s3.us-east-1.amazonaws.com. hostmaster.s3.us-east-1.amazonaws.com. 1 3600 600 86400 60")
	resp.Answer, resp.Ns = []dns.RR{alias}, []dns.RR{soa}
	e, err := Build(resp, Aging{Cap: 60, Fixed: func(rr dns.RR) bool { return rr == soa }}, 0, t0, t0+300e9)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("mybucket.s3.us-east-1.amazonaws.com.", dns.TypeA)
	q, _ := Parse(pack(t, req))
	for _, c := range []struct{ elapsed, alias, soa uint32 }{{0, 60, 60}, {100, 60, 60}, {239, 60, 60}, {250, 50, 60}, {299, 1, 60}} {
		var got dns.Msg
		if err := got.Unpack(e.Append(nil, &q, t0+int64(c.elapsed)*1e9, 0)); err != nil {
			t.Fatal(err)
		}
		if a, s := got.Answer[0].Header().Ttl, got.Ns[0].Header().Ttl; a != c.alias || s != c.soa {
			t.Errorf("after %d s: alias TTL %d, SOA TTL %d; want %d and %d", c.elapsed, a, s, c.alias, c.soa)
		}
	}
}

// MinTTL reads the smallest TTL from the wire as miekg/dns reads it,
// leaving the OPT record's flags out.
func TestMinTTL(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("a.example.", dns.TypeA)
	m.Response = true
	for _, rr := range []string{"a.example. 300 IN CNAME b.example.", "b.example. 45 IN A 192.0.2.1", "example. 900 IN NS ns.example."} {
		r, _ := dns.NewRR(rr)
		if r.Header().Rrtype == dns.TypeNS {
			m.Ns = append(m.Ns, r)
		} else {
			m.Answer = append(m.Answer, r)
		}
	}
	m.SetEdns0(1232, true) // its TTL field holds flags (DO: 32768)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if got := MinTTL(b); got != 45 {
		t.Fatalf("MinTTL %d, want 45", got)
	}
	empty := new(dns.Msg)
	empty.SetQuestion("a.example.", dns.TypeA)
	empty.SetEdns0(1232, true)
	e, _ := empty.Pack()
	if got := MinTTL(e); got != 0 {
		t.Fatalf("MinTTL of a reply without records %d, want 0", got)
	}
	if MinTTL([]byte{1, 2}) != 0 {
		t.Fatal("MinTTL of garbage is not 0")
	}
}

// Padding fills a reply to the next multiple of PadBlock octets whatever
// its length, the option's own four included; where that would pass 65535
// octets the option is empty, and where not even that fits, absent.
func TestAppendPadding(t *testing.T) {
	if out := appendPadding(make([]byte, 65533), 65533); len(out) != 65533 {
		t.Errorf("65533 octets: padded to %d", len(out))
	}
	for _, n := range []int{12, 463, 464, 465, 467, 468, 469, 935, 4000, 65000, 65531} {
		out := appendPadding(make([]byte, n), n)
		pad := int(binary.BigEndian.Uint16(out[n+2:]))
		if binary.BigEndian.Uint16(out[n:]) != optionPadding || len(out) != n+4+pad {
			t.Errorf("%d octets: option %x, length %d for %d padding octets", n, out[n:n+4], len(out), pad)
		}
		switch {
		case len(out) > dns.MaxMsgSize:
			t.Errorf("%d octets: padded past 65535 to %d", n, len(out))
		case n+4+PadBlock <= dns.MaxMsgSize && len(out)%PadBlock != 0:
			t.Errorf("%d octets: padded to %d, not a multiple of %d", n, len(out), PadBlock)
		case len(out)%PadBlock != 0 && pad != 0:
			t.Errorf("%d octets: %d padding octets that do not fill a block", n, pad)
		}
	}
}
