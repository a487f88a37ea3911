package dnsserver

import (
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/endpoint"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// query is one query as admitted: what both speeds answer from, and what is
// counted and logged about it.
type query struct {
	proto  metrics.Proto
	client netip.Addr
	peer   netip.AddrPort // the client with its port, and the address it asked (for dnstap)
	local  netip.AddrPort
	start  time.Time
	// keepalive is what edns-tcp-keepalive tells a TCP client that asks
	// (the connection's idle timeout in 100 ms units); 0 over UDP.
	keepalive uint16
	pkt       []byte     // the query as it came
	msg       wire.Query // header, question (as asked) and EDNS facts; aliases the packet
	lname     []byte     // the question name in lower case, wire form
	name      string     // the same, dotted; set for the full path only
	// The decision (step 2): the client's site (nil: none), and the
	// endpoint that answers the name, if any.
	site    *site
	match   zones.Match
	matched bool
	// ownHost: the name is this endpoint's own hostname (its index; -1 when
	// none), answered with RD=0 too, for resolvers using s3dns as a stub.
	ownHost int
	// ask and ep are the question as the cache and the endpoint answers
	// key it, once per query, whichever speed answers.
	ask cache.Question
	ep  endpoint.Question
	// How it was answered, for record.
	action   metrics.Action
	rcode    int
	upstream string
}

type verdict uint8

const (
	admitted verdict = iota
	rejected         // answered at once with q.rcode
	dropped          // no reply at all
)

const (
	rcodeServfail = dns.RcodeServerFailure
	rcodeRefused  = dns.RcodeRefused
	rcodeNotAuth  = dns.RcodeNotAuth
)

// admit runs every check a query passes before anything is looked up, in
// this order: a packet that is not a query is dropped; a client outside
// access.allow or over its rate is refused before anything else is said to
// it (nothing at all when the question does not parse); then NOTIMP, zone
// transfers and classes other than IN (REFUSED), FORMERR, BADVERS and an
// unknown TSIG key; then the decision, and RD=0 outside the served zones.
func (s *Server) admit(st *State, q *query, pkt []byte, sc *scratch) verdict {
	var problem wire.Problem
	q.site = nil // set by decide; a query rejected before it counts under no site
	q.msg, problem = wire.Parse(pkt)
	if problem == wire.NotQuery {
		return dropped
	}
	if q.msg.AskedKeepalive {
		q.msg.Keepalive = q.keepalive
	}
	if !st.allowed(q.client) {
		return q.refuse(metrics.ActionRefused)
	}
	if !st.limiter.allow(q.client) {
		return q.refuse(metrics.ActionLimited)
	}
	q.action = metrics.ActionInvalid
	transfer := q.msg.Qtype == dns.TypeAXFR || q.msg.Qtype == dns.TypeIXFR
	switch {
	case problem == wire.BadOpcode:
		return q.reject(dns.RcodeNotImplemented)
	case q.msg.Name != nil && (transfer || q.msg.Qclass != dns.ClassINET):
		// Zone transfers, whatever the authority section holds, and classes
		// other than IN (CH version.bind …) are never forwarded.
		q.action = metrics.ActionRefused
		return q.reject(rcodeRefused)
	case problem == wire.Malformed, q.msg.Qtype == dns.TypeOPT:
		return q.reject(dns.RcodeFormatError)
	case problem == wire.BadVersion:
		return q.reject(dns.RcodeBadVers)
	case q.msg.TSIG != nil:
		return q.reject(rcodeNotAuth) // s3dns holds no keys: BADKEY (reject adds the TSIG)
	}
	name := s.decide(st, q, sc)
	if !q.msg.RD() && !q.matched && q.ownHost < 0 && !st.Matcher.Serves(name) {
		// No recursion asked for a name s3dns is not the authority for:
		// refused, as Unbound does (and no snooping in the cache).
		q.action = metrics.ActionRefused
		return q.reject(rcodeRefused)
	}
	if q.matched {
		q.action = metrics.ActionEndpoint
	} else {
		q.action = metrics.ActionForward
	}
	return admitted
}

// refuse answers REFUSED when the question parsed, else nothing.
func (q *query) refuse(a metrics.Action) verdict {
	if q.msg.Name == nil {
		return dropped
	}
	q.action = a
	return q.reject(rcodeRefused)
}

func (q *query) reject(rcode int) verdict {
	q.rcode = rcode
	return rejected
}

// decide is step 2: which endpoint answers the name. The name is matched in
// its dotted lower-case form, built in scratch space without allocating for
// the names S3 uses, and returned (valid until sc is reused).
func (s *Server) decide(st *State, q *query, sc *scratch) string {
	sc.lname = wire.LowerName(sc.lname[:0], q.msg.Name)
	q.lname = sc.lname
	name := q.dotted(sc)
	matcher := st.Matcher
	var siteID uint8
	if q.site = q.siteOf(st); q.site != nil {
		matcher, siteID = q.site.matcher, q.site.id
	}
	q.match, q.matched = matcher.Match(name)
	q.ownHost = -1
	if !q.matched && (st.Health != nil || !q.msg.RD()) {
		if i, ok := st.hostnames[name]; ok {
			q.ownHost = i
		}
	}
	q.siteIndependent(st, name)
	if q.matched {
		q.ep = endpoint.Question{LName: q.lname, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass, Opts: q.msg.Opts(), Site: siteID}
	} else {
		q.ask = cache.Question{LName: q.lname, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass, Opts: q.msg.Opts()}
	}
	return name
}

// siteOf finds the query's site: by the client subnet a trusted forwarder
// sends (RFC 7871), setting the scope its replies carry back, else by the
// client's address. ECS from anyone else is ignored and never echoed.
func (q *query) siteOf(st *State) *site {
	addr := q.client
	trusted := q.msg.HasECS && len(st.sites) > 0 && st.trustsECS(q.client)
	if trusted && q.msg.ECSSource > 0 {
		addr = q.msg.ECSAddr()
	}
	s, scope := st.siteFor(addr)
	if trusted {
		q.msg.EchoECS = true
		switch {
		case q.msg.ECSSource == 0:
			scope = 0 // the client asked not to be told apart (§7.1.2)
		case s == nil:
			// No site: as narrow as what was sent, and never so wide that
			// a site's prefix inside the subnet shares the answer (§7.2.1).
			scope = st.noSiteScope(netip.PrefixFrom(addr, int(q.msg.ECSSource)))
		}
		q.msg.ECSScope = scope
	}
	return s
}

// siteIndependent narrows a trusted forwarder's ECS scope to 0 for a name
// whose answer no site policy can change: forwarded alike for every site,
// its answer holds for every client (RFC 7871 §7.2.1), so that a resolver
// keeps one copy of it, not one per site.
func (q *query) siteIndependent(st *State, name string) {
	if !q.msg.EchoECS || q.matched || q.ownHost >= 0 || st.anyPolicyMatches(name) {
		return
	}
	q.msg.ECSScope = 0
}

// dotted is the lower-case dotted question name, valid until sc is reused.
func (q *query) dotted(sc *scratch) string {
	if q.name != "" {
		return q.name
	}
	var printable bool
	if sc.dotted, printable = wire.AppendPresentation(sc.dotted[:0], q.lname); !printable {
		// Escapes needed: rare, so a string of its own.
		q.name = strings.ToLower(wire.Presentation(q.msg.Name))
		return q.name
	}
	// The string lives only while sc does; detach copies it.
	return unsafe.String(unsafe.SliceData(sc.dotted), len(sc.dotted))
}

// reject renders the error reply for a rejected query.
func (s *Server) reject(dst []byte, q *query, pkt []byte) []byte {
	start := len(dst)
	dst = wire.AppendError(dst, &q.msg, q.rcode)
	if q.rcode == rcodeNotAuth {
		dst = appendBadKey(dst, start, &q.msg)
	}
	return dst
}

// detach gives a query handed to the full path its own copy of everything
// that aliases the packet or the reader's scratch space.
func (q *query) detach(pkt []byte, sc *scratch) *query {
	c := *q
	own := append([]byte(nil), pkt...)
	c.pkt = own
	c.msg, _ = wire.Parse(own)
	c.msg.Keepalive = q.msg.Keepalive
	c.msg.EchoECS, c.msg.ECSScope = q.msg.EchoECS, q.msg.ECSScope
	c.lname = append([]byte(nil), q.lname...)
	c.name = strings.Clone(q.dotted(sc))
	c.ask.LName, c.ask.Name = c.lname, c.name
	c.ep.LName, c.ep.Name, c.ep.RD, c.ep.EDNS = c.lname, c.name, c.msg.RD(), c.msg.HasOPT
	return &c
}

// scratch is one reader's reusable buffers for the fast path.
type scratch struct {
	in, lname, dotted, out []byte
}

func newScratch() *scratch {
	return &scratch{in: make([]byte, 0, 512), lname: make([]byte, 0, 256), dotted: make([]byte, 0, 256), out: make([]byte, 0, 4096)}
}
