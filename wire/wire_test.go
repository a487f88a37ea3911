package wire

import (
	"bytes"
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

func TestParseQuery(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("MyBucket.s3.eu-west-2.amazonaws.com.", dns.TypeAAAA)
	q.Id = 0xbeef
	q.CheckingDisabled = true
	got, ok := ParseQuery(pack(t, q))
	if !ok || got.ID != 0xbeef || got.Qtype != dns.TypeAAAA || got.Qclass != dns.ClassINET || got.HasOPT || got.MaxUDP(1232) != 512 {
		t.Fatalf("plain: %+v %v", got, ok)
	}
	if name, _, _ := dns.UnpackDomainName(got.Name, 0); name != "MyBucket.s3.eu-west-2.amazonaws.com." {
		t.Fatalf("name %q", name)
	}
	q.SetEdns0(4096, true)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	got, ok = ParseQuery(pack(t, q))
	if !ok || !got.HasOPT || !got.DO || got.UDPSize != 4096 || got.MaxUDP(1232) != 1232 {
		t.Fatalf("EDNS: %+v %v", got, ok)
	}

	bad := map[string]func(m *dns.Msg){
		"response":        func(m *dns.Msg) { m.Response = true },
		"notify":          func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify },
		"two questions":   func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) },
		"answer section":  func(m *dns.Msg) { rr, _ := dns.NewRR("a. 1 IN A 192.0.2.1"); m.Answer = []dns.RR{rr} },
		"EDNS version 1":  func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) },
		"two additionals": func(m *dns.Msg) { m.SetEdns0(1232, false); m.Extra = append(m.Extra, m.Extra[0]) },
		"TC set":          func(m *dns.Msg) { m.Truncated = true },
	}
	for name, mutate := range bad {
		m := new(dns.Msg)
		m.SetQuestion("a.example.", dns.TypeA)
		mutate(m)
		if _, ok := ParseQuery(pack(t, m)); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	valid := pack(t, q)
	for cut := range len(valid) {
		if _, ok := ParseQuery(valid[:cut]); ok {
			t.Fatalf("accepted a query cut at %d bytes", cut)
		}
	}
	if _, ok := ParseQuery(append(valid, 0)); ok {
		t.Fatal("accepted trailing bytes")
	}
}

func TestEntryAppend(t *testing.T) {
	resp := new(dns.Msg)
	resp.SetQuestion("mybucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	resp.Response, resp.Authoritative, resp.RecursionAvailable = true, true, true
	for _, s := range []string{
		"mybucket.s3.eu-west-2.amazonaws.com. 60 IN CNAME vpce-1.s3.eu-west-2.vpce.amazonaws.com.",
		"vpce-1.s3.eu-west-2.vpce.amazonaws.com. 50 IN A 10.0.0.1",
		"vpce-1.s3.eu-west-2.vpce.amazonaws.com. 5 IN A 10.0.0.2",
	} {
		rr, _ := dns.NewRR(s)
		resp.Answer = append(resp.Answer, rr)
	}
	const t0 = int64(1_700_000_000) * 1e9
	e, err := Build(resp, 1, t0, t0+5e9)
	if err != nil {
		t.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("MyBucket.S3.eu-west-2.amazonaws.com.", dns.TypeA)
	req.Id = 4321
	req.SetEdns0(1232, true)
	q, ok := ParseQuery(pack(t, req))
	if !ok {
		t.Fatal("query not parsed")
	}
	lname := LowerName(nil, q.Name)
	if !e.Matches(lname, q.Qtype, q.Qclass, false) || e.Matches(lname, dns.TypeAAAA, q.Qclass, false) {
		t.Fatal("Matches")
	}
	out := e.Append([]byte("prefix"), &q, t0+3_500_000_000)
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

func TestKeyDistinguishes(t *testing.T) {
	n := []byte("\x01a\x07example\x00")
	k := Key(n, 1, 1, false)
	if k == Key(n, 28, 1, false) || k == Key(n, 1, 3, false) || k == Key(n, 1, 1, true) || k == Key([]byte("\x01b\x07example\x00"), 1, 1, false) {
		t.Fatal("collision on a different key field")
	}
	if k != Key(n, 1, 1, false) {
		t.Fatal("not deterministic")
	}
}

func BenchmarkParseAndAppend(b *testing.B) {
	resp := new(dns.Msg)
	resp.SetQuestion("mybucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	rr, _ := dns.NewRR("vpce-1.s3.eu-west-2.vpce.amazonaws.com. 50 IN A 10.0.0.1")
	resp.Answer = []dns.RR{rr}
	e, _ := Build(resp, 0, 0, 1)
	req := new(dns.Msg)
	req.SetQuestion("MyBucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	req.SetEdns0(1232, false)
	packet, _ := req.Pack()
	buf := make([]byte, 0, 1232)
	var lname []byte
	b.ReportAllocs()
	for b.Loop() {
		q, _ := ParseQuery(packet)
		lname = LowerName(lname[:0], q.Name)
		_ = Key(lname, q.Qtype, q.Qclass, q.DO)
		buf = e.Append(buf[:0], &q, 5e9)
	}
}
