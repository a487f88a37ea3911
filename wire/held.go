package wire

import (
	"github.com/miekg/dns"
)

// Held describes one packed answer for an operator (s3dns cache dump).
type Held struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Rcode string `json:"rcode"`
	// TTL is the seconds left until the answer goes stale (negative: stale
	// already, kept for serve-stale).
	TTL  int64  `json:"ttl"`
	DO   bool   `json:"do,omitempty"`
	CD   bool   `json:"cd,omitempty"`
	Site string `json:"site,omitempty"` // endpoint answers: the site they were built for
	From string `json:"from"`           // cache (forwarded) or endpoint
}

// Describe says what e holds at now, for an operator.
func (e *Entry) Describe(now int64) Held {
	t, ok := dns.TypeToString[e.qtype]
	if !ok {
		t = dns.Type(e.qtype).String()
	}
	return Held{Name: Presentation(e.Name()), Type: t, Rcode: dns.RcodeToString[e.Rcode()],
		TTL: (e.expires - now) / 1e9, DO: e.opts&OptDO != 0, CD: e.opts&OptCD != 0}
}

// IsName reports whether e answers a question for name (lower-case wire).
func (e *Entry) IsName(lname []byte) bool { return string(e.Name()) == string(lname) }

// IsNamed is a test for the entries answering questions for name
// (presentation form; "" for every entry): what a flush drops.
func IsNamed(name string) (func(*Entry) bool, error) {
	if name == "" {
		return func(*Entry) bool { return true }, nil
	}
	lname, err := PackName(name)
	if err != nil {
		return nil, err
	}
	return func(e *Entry) bool { return e.IsName(lname) }, nil
}
