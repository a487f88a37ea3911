package endpoint

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/upstream"
	"github.com/s3dns/s3dns/wire"
)

const (
	hostname = "vpce-0.s3.eu-west-2.vpce.amazonaws.com."
	listed   = "mybucket.s3.eu-west-2.amazonaws.com."
)

// answers is an Answers for eps over a real cache in front of a fake
// upstream on loopback, on a clock the test moves.
func answers(t *testing.T, eps []model.Endpoint, records ...string) (*Answers, *dnstest.Upstream, *dnstest.Clock) {
	t.Helper()
	up := dnstest.NewUpstream(t, records...)
	clock := dnstest.NewClock()
	wclock := wire.NewClock(clock.Now)
	c := cache.New(cache.Config{MaxEntries: 100, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour, Clock: wclock},
		upstream.New([]string{up.Addr}, 300*time.Millisecond))
	return New(eps, c, nil, wire.Limits{MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, nil), up, clock
}

func questionOf(t *testing.T, name string, qtype uint16) *wire.Question {
	t.Helper()
	lname, err := wire.PackName(name)
	if err != nil {
		t.Fatal(err)
	}
	return &wire.Question{Name: name, LName: lname, Qtype: qtype, Qclass: dns.ClassINET, RD: true}
}

// render is a reply to q from a packed entry, as the server writes it.
func render(t *testing.T, q *wire.Question, e *wire.Entry, now int64) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Qtype)
	m.Id = 1
	pkt, _ := m.Pack()
	parsed, _ := wire.Parse(pkt)
	return e.Append(nil, &parsed, now, 0)
}

// Answer synthesizes from the hostname's records through the cache and
// keeps the answer packed: Fresh then serves the same bytes without asking
// again, until the answer's lifetime ends.
func TestAnswerThenFresh(t *testing.T) {
	eps := cnameEndpoint("cname")
	eps[0].Hostname = hostname
	a, up, clock := answers(t, eps, hostname+" 30 IN A 10.0.0.1")
	m := matchFor(t, eps, listed)
	q := questionOf(t, listed, dns.TypeA)
	if e, _, _ := a.Fresh(q); e != nil {
		t.Fatal("an answer packed before any was built")
	}
	r, _ := a.Answer(context.Background(), q, m)
	if r.Entry == nil || r.Forwarded || r.Upstream == "" {
		t.Fatalf("answer: %+v", r)
	}
	full := render(t, q, r.Entry, r.Now)
	e, now, _ := a.Fresh(q)
	if e == nil || !bytes.Equal(render(t, q, e, now), full) {
		t.Fatal("Fresh does not serve what Answer built")
	}
	if n := testing.AllocsPerRun(100, func() { a.Fresh(q) }); n != 0 {
		t.Fatalf("Fresh allocates %v times", n)
	}
	clock.Add(31 * time.Second) // the target's TTL is over: so is the answer
	if e, _, _ := a.Fresh(q); e != nil {
		t.Fatal("an answer served past its target's TTL")
	}
	if up.Count(hostname, "udp") != 1 {
		t.Fatalf("the hostname was asked %d times", up.Count(hostname, "udp"))
	}
}

// An unresolvable hostname under on_unresolved: public forwards the name
// as if it were not listed; under servfail, SERVFAIL; neither is kept.
func TestAnswerUnresolved(t *testing.T) {
	for _, c := range []struct {
		mode      string
		forwarded bool
		rcode     int
	}{{"public", true, dns.RcodeSuccess}, {"servfail", false, dns.RcodeServerFailure}} {
		t.Run(c.mode, func(t *testing.T) {
			eps := cnameEndpoint(c.mode)
			eps[0].Hostname = hostname
			a, up, _ := answers(t, eps, listed+" 60 IN A 192.0.2.7")
			up.FailName(hostname)
			q := questionOf(t, listed, dns.TypeA)
			r, _ := a.Answer(context.Background(), q, matchFor(t, eps, listed))
			rcode := r.Rcode
			if r.Entry != nil {
				rcode = r.Entry.Rcode()
			}
			if r.Forwarded != c.forwarded || rcode != c.rcode {
				t.Fatalf("forwarded %v, rcode %d; want %v, %d", r.Forwarded, rcode, c.forwarded, c.rcode)
			}
			if e, _, _ := a.Fresh(q); e != nil {
				t.Fatal("an answer without its target was kept")
			}
		})
	}
}

// Without health checks the endpoint's own hostname is an ordinary
// forwarded answer, the cache's own entry.
func TestHostWithoutHealth(t *testing.T) {
	eps := cnameEndpoint("cname")
	eps[0].Hostname = hostname
	a, _, _ := answers(t, eps, hostname+" 30 IN A 10.0.0.1")
	r := a.Host(context.Background(), questionOf(t, hostname, dns.TypeA), &eps[0], 0)
	if r.Entry == nil || r.Entry.Rcode() != dns.RcodeSuccess || a.Probed(0) {
		t.Fatalf("host answer: %+v", r)
	}
}
