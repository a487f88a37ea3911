package dnsserver

import (
	"context"
	"net"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/cache"
	"github.com/s3dns/s3dns/zones"
)

// Actions: how a query was answered, for logs and metrics.
const (
	ActionEndpoint = "endpoint"
	ActionForward  = "forward"
	ActionRefused  = "refused"
	ActionLimited  = "ratelimited"
	ActionInvalid  = "invalid"
)

// outcome is what answering one query produced.
type outcome struct {
	resp     *dns.Msg
	action   string
	upstream string
}

// answer decides the reply to a well-formed single-question query.
// rateCounted says the fast path already took this query's token.
func (s *Server) answer(ctx context.Context, st *State, req *dns.Msg, client netip.Addr, do, rateCounted bool) outcome {
	q := req.Question[0]
	if s.loop.seen(q.Name) {
		// Our own probe came back: answer at once so that the loop ends here.
		s.log.Debug("loop probe came back", "client", client.String(), "name", q.Name)
		return outcome{resp: rcodeReply(req, dns.RcodeServerFailure), action: ActionForward}
	}
	if !st.allowed(client) {
		return outcome{resp: rcodeReply(req, dns.RcodeRefused), action: ActionRefused}
	}
	if !rateCounted && !st.limiter.allow(client) {
		return outcome{resp: rcodeReply(req, dns.RcodeRefused), action: ActionLimited}
	}
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		return outcome{resp: rcodeReply(req, dns.RcodeRefused), action: ActionRefused}
	case dns.TypeOPT:
		return outcome{resp: rcodeReply(req, dns.RcodeFormatError), action: ActionInvalid}
	}
	if q.Qclass == dns.ClassINET {
		if m, ok := st.Matcher.Match(q.Name); ok {
			if o, ok := s.endpointAnswer(ctx, st, req, m, do); ok {
				return o
			}
		}
	}
	return s.forward(ctx, st, req, do)
}

// endpointAnswer answers a matched name; ok is false when the endpoint says
// to forward it as if it were not listed.
func (s *Server) endpointAnswer(ctx context.Context, st *State, req *dns.Msg, m zones.Match, do bool) (outcome, bool) {
	var target *zones.Target
	var upstream string
	// Only answers from fresh data (or needing none) are kept for the fast path.
	keep := true
	if name, qtype, need := zones.Lookup(req, m); need {
		res, err := st.Resolver.Resolve(ctx, name, qtype, dns.ClassINET, do)
		switch {
		case err != nil:
			s.log.Debug("endpoint hostname unresolved", "hostname", name, "error", err)
			keep = false
		case res.Msg.Rcode == dns.RcodeServerFailure || res.Msg.Rcode == dns.RcodeRefused:
			keep = false
		default:
			target = &zones.Target{Rcode: res.Msg.Rcode, Answer: res.Msg.Answer, Ns: res.Msg.Ns}
			upstream = res.Upstream
			keep = res.Source != cache.FromStale && res.Msg.Rcode == dns.RcodeSuccess
		}
	}
	resp, forward := zones.Answer(req, m, target)
	if forward {
		return outcome{}, false
	}
	if keep && resp.Rcode == dns.RcodeSuccess {
		st.keepEndpointAnswer(req, resp, m, do, target)
	}
	return outcome{resp: resp, action: ActionEndpoint, upstream: upstream}, true
}

// forward answers from the cache or the upstreams.
func (s *Server) forward(ctx context.Context, st *State, req *dns.Msg, do bool) outcome {
	q := req.Question[0]
	res, err := st.Resolver.Resolve(ctx, q.Name, q.Qtype, q.Qclass, do)
	if err != nil {
		s.log.Debug("forwarding failed", "name", q.Name, "error", err)
		return outcome{resp: rcodeReply(req, dns.RcodeServerFailure), action: ActionForward}
	}
	up := res.Msg
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Rcode = up.Rcode
	resp.RecursionAvailable = true
	resp.AuthenticatedData = up.AuthenticatedData && (do || req.AuthenticatedData)
	resp.Answer, resp.Ns, resp.Extra = up.Answer, up.Ns, up.Extra
	return outcome{resp: resp, action: ActionForward, upstream: res.Upstream}
}

func rcodeReply(req *dns.Msg, rcode int) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(req, rcode)
	resp.RecursionAvailable = true
	return resp
}

func clientAddr(w dns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
