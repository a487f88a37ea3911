package dnsserver

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
	"github.com/s3dns/s3dns/zones"
)

// origin is what the transport knows of a query before reading it. It
// holds values only: the one part of a query that the full path's copy
// (detach) takes over as it is.
type origin struct {
	proto  metrics.Proto
	client netip.Addr
	peer   netip.AddrPort // the client with its port, and the address it asked (for dnstap)
	local  netip.AddrPort
	start  time.Time
	// keepalive is what edns-tcp-keepalive tells a TCP client that asks
	// (the connection's idle timeout in 100 ms units); 0 over UDP.
	keepalive uint16
	// certNames are the DNS names (or common name) of the client's
	// verified TLS certificate, lower case; nil without one. The slice is
	// the connection's, never changed once the handshake is done.
	certNames []string
}

// query is one query: where it came from, what steps 1 and 2 made of its
// packet (the same at both speeds), and how it was answered.
type query struct {
	origin
	pkt []byte     // the query as it came
	msg wire.Query // header, question (as asked) and EDNS facts; aliases pkt
	// ask is the question every answer source is asked, at either speed.
	ask wire.Question
	// held is where the fast path's cache hit is unpacked (its buffer
	// stays the cache's).
	held wire.Entry
	// The decision (step 2): the client's site (nil: none), and the source
	// that answers: an endpoint (match), its own hostname (ownHost), or
	// the cache.
	site  *site
	route route
	match zones.Match
	// ownHost: the name is this endpoint's own hostname (its index; -1 when
	// none), answered with RD=0 too, for resolvers using s3dns as a stub.
	ownHost int
	// How it was answered, for record: answeredBy is the endpoint that
	// answered (its index: the one matched, or its fallback).
	answeredBy int
	action     metrics.Action
	rcode      int
	upstream   string
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
	problem := q.parse(pkt)
	if problem == wire.NotQuery {
		return dropped
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
	s.decide(st, q, sc)
	if !q.msg.RD() && q.route != routeEndpoint && q.ownHost < 0 && !st.Matcher.Serves(q.ask.Name) {
		// No recursion asked for a name s3dns is not the authority for:
		// refused, as Unbound does (and no snooping in the cache).
		q.action = metrics.ActionRefused
		return q.reject(rcodeRefused)
	}
	return admitted
}

// parse is step 1's reading of the packet, at both speeds.
func (q *query) parse(pkt []byte) wire.Problem {
	var problem wire.Problem
	q.pkt = pkt
	q.site = nil // set by decide; a query rejected before it counts under no site
	q.msg, problem = wire.Parse(pkt)
	if q.msg.AskedKeepalive {
		q.msg.Keepalive = q.keepalive
	}
	// Only an encrypted reply is worth padding (RFC 8467 §4): in clear
	// text its size tells no more than its content.
	q.msg.Pad = q.msg.AskedPadding && (q.proto == metrics.TLS || q.proto == metrics.HTTPS)
	return problem
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

// decide is step 2: which source answers the name, and the question it is
// asked. The name is matched in its dotted lower-case form, built in sc
// without allocating for the names S3 uses: q.ask's names alias sc.
func (s *Server) decide(st *State, q *query, sc *scratch) {
	sc.lname = wire.LowerName(sc.lname[:0], q.msg.Name)
	name := dotted(sc, q.msg.Name)
	matcher := st.Matcher
	var siteID uint8
	if q.site = q.siteOf(st); q.site != nil {
		matcher, siteID = q.site.matcher, q.site.id
	}
	var matched bool
	q.match, matched = matcher.Match(name)
	q.ownHost = -1
	if !matched && (st.Health != nil || !q.msg.RD()) {
		if i, ok := st.hostnames[name]; ok {
			q.ownHost = i
		}
	}
	q.ask = wire.Question{Name: name, LName: sc.lname, Qtype: q.msg.Qtype, Qclass: q.msg.Qclass,
		Opts: q.msg.Opts(), RD: q.msg.RD(), EDNS: q.msg.HasOPT}
	switch {
	case matched:
		q.route, q.action, q.ask.Site = routeEndpoint, metrics.ActionEndpoint, siteID
	case q.ownHost >= 0 && st.Endpoints.Probed(q.ownHost):
		q.route, q.action = routeHost, metrics.ActionForward
	default:
		q.route, q.action = routeForward, metrics.ActionForward
	}
	q.siteIndependent(st, name)
}

// siteOf finds the query's site: by the client subnet a trusted forwarder
// sends (RFC 7871), setting the scope its replies carry back, else by the
// client's address. ECS from anyone else is ignored and never echoed.
func (q *query) siteOf(st *State) *site {
	if len(q.certNames) > 0 && len(st.sites) > 0 {
		// An authenticated client is known by its certificate, wherever it
		// comes from (and whatever subnet it claims).
		if i, ok := st.Config.SiteNamed(q.certNames); ok {
			return &st.sites[i]
		}
	}
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
	if !q.msg.EchoECS || q.route == routeEndpoint || q.ownHost >= 0 || st.anyPolicyMatches(name) {
		return
	}
	q.msg.ECSScope = 0
}

// dotted is the lower-case dotted form of sc.lname, in sc: valid until sc
// is reused.
func dotted(sc *scratch, name []byte) string {
	var printable bool
	if sc.dotted, printable = wire.AppendPresentation(sc.dotted[:0], sc.lname); !printable {
		// Escapes needed: rare, so a string of its own.
		return strings.ToLower(wire.Presentation(name))
	}
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

// detach is the query for the full path, which outlives the packet and the
// reader's scratch space: steps 1 and 2 run again on a copy of the packet,
// with buffers of the copy's own. Only the origin, values alone, is taken
// over, so nothing the query holds, whatever fields it gains, can point
// into the reader's buffers; TestBothSpeedsSeeTheSameQuery checks that the
// copy is the same query.
func (s *Server) detach(st *State, q *query) *query {
	c := &query{origin: q.origin}
	c.parse(bytes.Clone(q.pkt))
	s.decide(st, c, new(scratch))
	return c
}

// settled is a copy of an answered query to record later (a TCP reply
// queued behind others): its packet copied, its outcome kept.
func (q *query) settled() *query {
	c := &query{origin: q.origin}
	c.parse(bytes.Clone(q.pkt))
	c.site, c.action, c.rcode, c.upstream, c.answeredBy = q.site, q.action, q.rcode, q.upstream, q.answeredBy
	return c
}

// scratch is one reader's reusable buffers for the fast path, and the
// query it is working on: one value per reader, not one per packet (the
// dispatch through sources would move a query of each packet's own to the
// heap).
type scratch struct {
	in, lname, dotted, out []byte
	q                      query
}

// query starts the reader's next query, from o.
func (sc *scratch) query(o origin) *query {
	sc.q = query{origin: o}
	return &sc.q
}

func newScratch() *scratch {
	return &scratch{in: make([]byte, 0, 512), lname: make([]byte, 0, 256), dotted: make([]byte, 0, 256), out: make([]byte, 0, 4096)}
}
