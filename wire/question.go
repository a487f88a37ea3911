package wire

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// Question is one admitted query as every answer source sees it (the
// cache, the endpoint answers, whatever comes next): the name in both
// forms, the type and class, the bits that select a different answer, and
// the client's site. The server makes one per query, at either speed, and
// its key is computed once, whichever source asks first.
type Question struct {
	// Name is lower case and fully qualified. The fast path may leave it
	// to alias scratch space: sources must not keep it past the call.
	Name   string
	LName  []byte // the same in wire form
	Qtype  uint16
	Qclass uint16
	Opts   Opts // DO and CD as asked
	RD     bool
	EDNS   bool // the query carried an OPT
	// Site is the client's site (1-based; 0: none). Only answers that
	// differ by site key by it (SiteKey).
	Site  uint8
	key   uint64
	keyed bool
}

// NewQuestion is a question asked by s3dns itself (an endpoint's target,
// a health check) rather than by a client: recursion desired, EDNS.
func NewQuestion(name string, qtype uint16, o Opts) Question {
	return Question{Name: strings.ToLower(dns.Fqdn(name)), Qtype: qtype, Qclass: dns.ClassINET, Opts: o, RD: true, EDNS: true}
}

// Key is the question's cache key, the same for every site. It fails only
// for a Name that is not a DNS name.
func (q *Question) Key() (uint64, error) {
	if q.keyed {
		return q.key, nil
	}
	if q.LName == nil {
		if q.Name == "" {
			return 0, errNoName
		}
		l, err := PackName(q.Name)
		if err != nil {
			return 0, err
		}
		q.LName = l
	}
	q.key, q.keyed = Key(q.LName, q.Qtype, q.Qclass, q.Opts), true
	return q.key, nil
}

// SiteKey is the key of an answer that differs by site.
func (q *Question) SiteKey() (uint64, error) {
	k, err := q.Key()
	return k ^ uint64(q.Site)*0x9e3779b97f4a7c15, err
}

// Dotted is Name, made from LName when only that is at hand.
func (q *Question) Dotted() string {
	if q.Name == "" && q.LName != nil {
		q.Name = strings.ToLower(Presentation(q.LName))
	}
	return q.Name
}

// Msg is the question as a query message in lower case, RD, CD and DO as
// asked, with EDNS when the client used it.
func (q *Question) Msg() *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: q.Dotted(), Qtype: q.Qtype, Qclass: q.Qclass}}
	m.RecursionDesired = q.RD
	m.CheckingDisabled = q.Opts&OptCD != 0
	if q.EDNS {
		m.SetEdns0(MaxUDPSize, q.Opts&OptDO != 0)
	}
	return m
}

var errNoName = errors.New("question without a name")
