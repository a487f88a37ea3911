package endpoint

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func matchFor(t *testing.T, eps []model.Endpoint, name string) zones.Match {
	t.Helper()
	m, ok := zones.New(eps).Match(name)
	if !ok {
		t.Fatalf("%s not matched", name)
	}
	return m
}

const bucketName = "MyBucket.s3.EU-west-2.amazonaws.com."

func cnameEndpoint(onUnresolved string, addrs ...string) []model.Endpoint {
	eps := []model.Endpoint{{Answer: "cname", OnUnresolved: "cname", TTL: time.Minute, Region: "eu-west-2",
		Hostname: "vpce-0.s3.eu-west-2.vpce.amazonaws.com."}}
	eps[0].Buckets = []string{"mybucket"}
	eps[0].OnUnresolved = onUnresolved
	for _, a := range addrs {
		eps[0].Addresses = append(eps[0].Addresses, netip.MustParseAddr(a))
	}
	return eps
}

func TestCNAMEAnswerWithTargetRecords(t *testing.T) {
	m := matchFor(t, cnameEndpoint("cname"), bucketName)
	target := &targetRecords{Answer: []dns.RR{
		mustRR(t, "vpce-0.s3.eu-west-2.vpce.amazonaws.com. 20 IN A 10.0.0.1"),
		mustRR(t, "vpce-0.s3.eu-west-2.vpce.amazonaws.com. 20 IN A 10.0.0.2"),
	}}
	resp, fwd := answer(query(bucketName, dns.TypeA), m, target)
	if fwd {
		t.Fatal("forward")
	}
	if !resp.Authoritative || !resp.RecursionAvailable || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("header: %v", resp.MsgHdr)
	}
	if len(resp.Answer) != 3 {
		t.Fatalf("answer: %v", resp.Answer)
	}
	cname := resp.Answer[0].(*dns.CNAME)
	if cname.Hdr.Name != bucketName || cname.Target != "vpce-0.s3.eu-west-2.vpce.amazonaws.com." || cname.Hdr.Ttl != 60 {
		t.Errorf("cname: %v", cname)
	}
	if resp.Answer[1].Header().Ttl != 20 || resp.Question[0].Name != bucketName {
		t.Errorf("target TTL or question changed: %v", resp)
	}
}

func TestCNAMEAnswerNoData(t *testing.T) {
	m := matchFor(t, cnameEndpoint("cname"), bucketName)
	soa := mustRR(t, "s3.eu-west-2.vpce.amazonaws.com. 60 IN SOA ns. h. 1 2 3 4 5")
	resp, _ := answer(query(bucketName, dns.TypeTXT), m, &targetRecords{Ns: []dns.RR{soa, mustRR(t, "x. 60 IN NS y.")}})
	if len(resp.Answer) != 1 || len(resp.Ns) != 1 || resp.Ns[0] != soa || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("want CNAME alone with the SOA only: %v", resp)
	}
	nx, _ := answer(query(bucketName, dns.TypeA), m, &targetRecords{Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}})
	if nx.Rcode != dns.RcodeNameError || len(nx.Answer) != 1 {
		t.Fatalf("NXDOMAIN target: %v", nx)
	}
}

func TestCNAMEQueryGetsOnlyTheCNAME(t *testing.T) {
	m := matchFor(t, cnameEndpoint("servfail"), bucketName)
	q := query(bucketName, dns.TypeCNAME)
	if _, _, need := lookup(q, m); need {
		t.Fatal("CNAME query should need no lookup")
	}
	resp, _ := answer(q, m, nil)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("%v", resp)
	}
}

func TestCNAMEUnresolved(t *testing.T) {
	q := query(bucketName, dns.TypeA)
	// on_unresolved: cname — the CNAME alone.
	resp, fwd := answer(q, matchFor(t, cnameEndpoint("cname"), bucketName), nil)
	if fwd || len(resp.Answer) != 1 || resp.Rcode != dns.RcodeSuccess {
		t.Fatalf("cname: %v", resp)
	}
	// public — forward.
	if _, fwd := answer(q, matchFor(t, cnameEndpoint("public"), bucketName), nil); !fwd {
		t.Fatal("public: not forwarded")
	}
	// servfail — SERVFAIL.
	resp, _ = answer(q, matchFor(t, cnameEndpoint("servfail"), bucketName), nil)
	if resp.Rcode != dns.RcodeServerFailure || len(resp.Answer) != 0 {
		t.Fatalf("servfail: %v", resp)
	}
	// Static addresses come before on_unresolved.
	resp, fwd = answer(q, matchFor(t, cnameEndpoint("servfail", "10.9.9.9", "fd00::9"), bucketName), nil)
	if fwd || len(resp.Answer) != 2 || resp.Answer[1].(*dns.A).A.String() != "10.9.9.9" ||
		resp.Answer[1].Header().Name != "vpce-0.s3.eu-west-2.vpce.amazonaws.com." {
		t.Fatalf("static: %v", resp)
	}
}

func aliasEndpoint(onUnresolved, hostname string, addrs ...string) []model.Endpoint {
	eps := cnameEndpoint(onUnresolved, addrs...)
	eps[0].Answer = "alias"
	eps[0].Hostname = hostname
	return eps
}

func TestAliasAnswer(t *testing.T) {
	eps := aliasEndpoint("servfail", "vpce-0.s3.eu-west-2.vpce.amazonaws.com.")
	m := matchFor(t, eps, bucketName)
	target := &targetRecords{Answer: []dns.RR{
		mustRR(t, "vpce-0.s3.eu-west-2.vpce.amazonaws.com. 300 IN A 10.0.0.1"),
		mustRR(t, "vpce-0.s3.eu-west-2.vpce.amazonaws.com. 30 IN A 10.0.0.2"),
	}}
	r := synthesize(query(bucketName, dns.TypeA), m, target)
	resp := r.Msg
	// The target's TTLs, counting down once packed, shown at most at the
	// endpoint's 60 s.
	if len(resp.Answer) != 2 || resp.Answer[0].Header().Name != bucketName ||
		resp.Answer[0].Header().Ttl != 300 || resp.Answer[1].Header().Ttl != 30 || !resp.Authoritative ||
		r.Aging.Cap != 60 || r.Aging.Fixed(resp.Answer[0]) || r.Aging.Fixed(resp.Answer[1]) {
		t.Fatalf("alias A (cap %d): %v", r.Aging.Cap, resp)
	}
	if target.Answer[0].Header().Name != "vpce-0.s3.eu-west-2.vpce.amazonaws.com." {
		t.Fatal("the target's records were modified")
	}
	// Other types: NOERROR, empty, SOA of the served zone in the asked spelling.
	q := query(bucketName, dns.TypeMX)
	if _, _, need := lookup(q, m); need {
		t.Fatal("MX in alias mode needs no lookup")
	}
	resp, _ = answer(q, m, nil)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 || len(resp.Ns) != 1 ||
		resp.Ns[0].Header().Name != "s3.EU-west-2.amazonaws.com." {
		t.Fatalf("alias MX: %v", resp)
	}
	// Target without AAAA: NODATA with SOA.
	resp, _ = answer(query(bucketName, dns.TypeAAAA), m, &targetRecords{})
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 || resp.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("alias AAAA nodata: %v", resp)
	}
}

func TestAliasUnresolved(t *testing.T) {
	q := query(bucketName, dns.TypeA)
	host := "vpce-0.s3.eu-west-2.vpce.amazonaws.com."
	resp, _ := answer(q, matchFor(t, aliasEndpoint("cname", host), bucketName), nil)
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("alias unresolved: %v", resp)
	}
	resp, _ = answer(q, matchFor(t, aliasEndpoint("cname", host), bucketName), &targetRecords{Rcode: dns.RcodeNameError})
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("alias with NXDOMAIN target: %v", resp)
	}
	if _, fwd := answer(q, matchFor(t, aliasEndpoint("public", host), bucketName), nil); !fwd {
		t.Fatal("alias public: not forwarded")
	}
	resp, _ = answer(q, matchFor(t, aliasEndpoint("servfail", host, "10.1.1.1"), bucketName), nil)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Name != bucketName {
		t.Fatalf("alias static fallback: %v", resp)
	}
	// Addresses only, no hostname: answered from them, no lookup.
	eps := aliasEndpoint("servfail", "", "10.1.1.1", "10.1.1.2")
	eps[0].Answer = "cname"
	m := matchFor(t, eps, bucketName)
	if _, _, need := lookup(q, m); need {
		t.Fatal("addresses-only endpoint needs no lookup")
	}
	resp, _ = answer(q, m, nil)
	if len(resp.Answer) != 2 || resp.Answer[0].Header().Rrtype != dns.TypeA {
		t.Fatalf("addresses only: %v", resp)
	}
	resp, _ = answer(query(bucketName, dns.TypeAAAA), m, nil)
	if len(resp.Answer) != 0 || len(resp.Ns) != 1 {
		t.Fatalf("addresses only, no AAAA: %v", resp)
	}
}

// BenchmarkAnswer is the full path's answer synthesis (the fast path serves
// the packed result afterwards).
func BenchmarkAnswer(b *testing.B) {
	eps := cnameEndpoint("cname")
	m, _ := zones.New(eps).Match(bucketName)
	rr1, _ := dns.NewRR("vpce-0.s3.eu-west-2.vpce.amazonaws.com. 20 IN A 10.0.0.1")
	rr2, _ := dns.NewRR("vpce-0.s3.eu-west-2.vpce.amazonaws.com. 20 IN A 10.0.0.2")
	target := &targetRecords{Answer: []dns.RR{rr1, rr2}}
	q := query(bucketName, dns.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		answer(q, m, target)
	}
}

// answer is synthesize as the tests read it: the message and whether to forward.
func answer(req *dns.Msg, m zones.Match, target *targetRecords) (*dns.Msg, bool) {
	r := synthesize(req, m, target)
	return r.Msg, r.Forward
}
