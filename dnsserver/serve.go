package dnsserver

import (
	"context"
	"fmt"
	"runtime/debug"

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
	udp := w.LocalAddr().Network() == "udp"
	if len(req.Question) != 1 {
		_ = w.WriteMsg(rcodeReply(req, dns.RcodeFormatError))
		return
	}
	opt, bad := ednsOf(req)
	if bad != nil {
		_ = w.WriteMsg(bad)
		return
	}
	st := s.state.Load()
	ctx, cancel := context.WithTimeout(context.Background(), st.budget)
	defer cancel()
	o := s.answer(ctx, st, req, clientAddr(w), opt != nil && opt.Do())
	finish(o.resp, req, opt, udp)
	if err := w.WriteMsg(o.resp); err != nil {
		s.log.Debug("writing reply failed", "client", w.RemoteAddr().String(), "error", err)
	}
}

// acceptQuery is the server's first look at a header: responses are
// dropped, opcodes other than QUERY get NOTIMP, anything but one question
// (or records where a query has none) gets FORMERR.
func acceptQuery(dh dns.Header) dns.MsgAcceptAction {
	const qrBit = 1 << 15
	if dh.Bits&qrBit != 0 {
		return dns.MsgIgnore
	}
	if opcode := int(dh.Bits>>11) & 0xF; opcode != dns.OpcodeQuery {
		return dns.MsgRejectNotImplemented
	}
	if dh.Qdcount != 1 || dh.Ancount != 0 || dh.Nscount != 0 || dh.Arcount > 2 {
		return dns.MsgReject
	}
	return dns.MsgAccept
}
