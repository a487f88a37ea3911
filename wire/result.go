package wire

import "github.com/miekg/dns"

// Source says where an answer came from.
type Source uint8

const (
	FromUpstream Source = iota
	FromCache
	FromStale
)

// Result is what any answer source gives for a question: a packed answer
// to render at Now, or, when Entry is nil, the rcode to answer with.
type Result struct {
	Entry    *Entry
	Now      int64
	Rcode    int
	Source   Source
	Upstream string // the upstream that gave it; "" when none was asked
	// Forwarded: a listed name answered as if it were not (on_unresolved
	// or on_unhealthy: public), counted as forwarded.
	Forwarded bool
	msg       *dns.Msg // the answer unpacked, when at hand
	shared    bool     // msg is also another caller's
}

// Failed is a result with no answer: the client gets rcode.
func Failed(rcode int) Result { return Result{Rcode: rcode} }

// WithMsg is r carrying its answer unpacked too, saving Msg an unpack;
// shared says other callers hold the same message.
func (r Result) WithMsg(m *dns.Msg, shared bool) Result {
	r.msg, r.shared = m, shared
	return r
}

// Msg is the answer unpacked, the caller's own to change.
func (r Result) Msg() *dns.Msg {
	switch {
	case r.msg != nil && r.shared:
		return r.msg.Copy()
	case r.msg != nil:
		return r.msg
	}
	if r.Entry == nil {
		m := new(dns.Msg)
		m.Rcode = r.Rcode
		return m
	}
	m, err := r.Entry.Msg(r.Now)
	if err != nil {
		return new(dns.Msg) // cannot happen: the entry was packed from a valid message
	}
	return m
}
