package dnsserver

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// ServeDNS answers one query: recover, EDNS check, answer, finish, one write.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("recovered from panic while answering", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp := rcodeReply(req, dns.RcodeServerFailure)
			resp.Question = req.Question
			_ = w.WriteMsg(resp)
		}
	}()
	start := time.Now()
	s.metrics.InFlight.Inc()
	defer s.metrics.InFlight.Dec()
	proto := w.LocalAddr().Network()
	rateCounted := false
	if rw, ok := w.(*udpWriter); ok {
		rateCounted = rw.rateCounted
	}
	if proto == "tcp" {
		var handled bool
		if handled, rateCounted = s.answerTCPFast(w, req, start); handled {
			return
		}
	}
	if len(req.Question) != 1 {
		s.write(w, rcodeReply(req, dns.RcodeFormatError))
		return
	}
	opt, bad := ednsOf(req)
	if bad != nil {
		s.write(w, bad)
		return
	}
	st := s.state.Load()
	ctx, cancel := context.WithTimeout(context.Background(), st.budget)
	defer cancel()
	client := clientAddr(w)
	o := s.answer(ctx, st, req, client, opt != nil && opt.Do(), rateCounted)
	finish(o.resp, req, opt, proto == "udp")

	// Counted before the write, so that whoever sees the answer sees the count.
	q := req.Question[0]
	elapsed := time.Since(start)
	if o.action != ActionInvalid {
		s.metrics.CountRequest(proto, q.Qtype, o.action)
		s.metrics.ObserveDuration(o.action, elapsed.Seconds())
	}
	s.write(w, o.resp)
	if st.Config.Log.Queries {
		s.log.Info("query", "client", client.String(), "proto", proto, "name", q.Name, "type", dns.TypeToString[q.Qtype],
			"action", o.action, "rcode", dns.RcodeToString[o.resp.Rcode], "duration", elapsed, "upstream", o.upstream)
	}
}

// write sends one reply and counts its rcode.
func (s *Server) write(w dns.ResponseWriter, resp *dns.Msg) {
	s.metrics.CountResponse(resp.Rcode)
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("writing reply failed", "client", w.RemoteAddr().String(), "error", err)
	}
}

// acceptQuery is the server's first look at a header: responses are
// dropped, opcodes other than QUERY get NOTIMP, anything but one question
// (or records where a query has none) gets FORMERR.
func (s *Server) acceptQuery(dh dns.Header) dns.MsgAcceptAction {
	const qrBit = 1 << 15
	if dh.Bits&qrBit != 0 {
		return dns.MsgIgnore
	}
	if opcode := int(dh.Bits>>11) & 0xF; opcode != dns.OpcodeQuery {
		s.metrics.Responses.WithLabelValues("NOTIMP").Inc()
		return dns.MsgRejectNotImplemented
	}
	if dh.Qdcount != 1 || dh.Ancount != 0 || dh.Nscount != 0 || dh.Arcount > 2 {
		s.metrics.Responses.WithLabelValues("FORMERR").Inc()
		return dns.MsgReject
	}
	return dns.MsgAccept
}

var scratchPool = sync.Pool{New: func() any { return newScratch() }}

// answerTCPFast gives TCP queries the fast path too: miekg/dns hands over
// an unpacked message, so it is packed again (cheaper than the full path's
// unpack, copy and pack of the answer), and the answer is written as is.
func (s *Server) answerTCPFast(w dns.ResponseWriter, req *dns.Msg, start time.Time) (handled, rateCounted bool) {
	st := s.state.Load()
	if st.hits == nil {
		return false, false
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	pkt, err := req.PackBuffer(sc.in[:cap(sc.in)])
	if err != nil {
		return false, false
	}
	sc.in = pkt[:0]
	r, ok := s.fastAnswer(st, pkt, clientAddr(w), 0, sc)
	if !ok {
		return false, r.rateCounted
	}
	s.metrics.CountRequest("tcp", r.qtype, r.action)
	s.metrics.CountResponse(r.rcode)
	if _, err := w.Write(r.resp); err != nil {
		s.log.Debug("writing reply failed", "client", w.RemoteAddr().String(), "error", err)
	}
	s.metrics.ObserveDuration(r.action, time.Since(start).Seconds())
	if st.Config.Log.Queries && len(req.Question) == 1 {
		s.log.Info("query", "client", clientAddr(w).String(), "proto", "tcp", "name", req.Question[0].Name,
			"type", dns.TypeToString[r.qtype], "action", r.action, "rcode", dns.RcodeToString[r.rcode],
			"duration", time.Since(start), "upstream", "cache")
	}
	return true, true
}
