package dnsserver

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
)

// serveUDP reads queries from one socket: the fast path answers in the
// reading goroutine, everything else gets a goroutine of its own on the
// full path (ServeDNS), so that a slow upstream never holds the socket.
func (s *Server) serveUDP(conn *net.UDPConn) {
	buf := make([]byte, 65535)
	sc := newScratch()
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			s.log.Debug("UDP read failed", "error", err)
			continue
		}
		start := time.Now()
		st := s.state.Load()
		if r, ok := s.fastAnswer(st, buf[:n], addr.Addr().Unmap(), maxUDPSize, sc); ok {
			s.metrics.CountRequest("udp", r.qtype, r.action)
			s.metrics.CountResponse(r.rcode)
			if _, err := conn.WriteToUDPAddrPort(r.resp, addr); err != nil {
				s.log.Debug("writing reply failed", "client", addr.String(), "error", err)
			}
			s.metrics.ObserveDuration(r.action, time.Since(start).Seconds())
			if st.Config.Log.Queries {
				s.logFast(addr, r, start)
			}
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		s.slow.Add(1)
		go func() {
			defer s.slow.Done()
			s.serveUDPPacket(conn, pkt, addr)
		}()
	}
}

func (s *Server) logFast(addr netip.AddrPort, r fastResult, start time.Time) {
	var m dns.Msg
	name := ""
	if m.Unpack(r.resp) == nil && len(m.Question) == 1 {
		name = m.Question[0].Name
	}
	s.log.Info("query", "client", addr.Addr().String(), "proto", "udp", "name", name, "type", dns.TypeToString[r.qtype],
		"action", r.action, "rcode", dns.RcodeToString[r.rcode], "duration", time.Since(start), "upstream", "cache")
}

// serveUDPPacket is the full path for one datagram, as miekg/dns's server
// does it: header check, unpack, ServeDNS; FORMERR or NOTIMP for what the
// header check rejects, nothing for what cannot even be parsed.
func (s *Server) serveUDPPacket(conn *net.UDPConn, pkt []byte, addr netip.AddrPort) {
	w := &udpWriter{conn: conn, addr: addr}
	if len(pkt) < 12 {
		return
	}
	dh := dns.Header{
		Id: binary.BigEndian.Uint16(pkt), Bits: binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]), Ancount: binary.BigEndian.Uint16(pkt[6:]),
		Nscount: binary.BigEndian.Uint16(pkt[8:]), Arcount: binary.BigEndian.Uint16(pkt[10:]),
	}
	rcode := dns.RcodeFormatError
	switch s.acceptQuery(dh) {
	case dns.MsgIgnore:
		return
	case dns.MsgRejectNotImplemented:
		rcode = dns.RcodeNotImplemented
	case dns.MsgAccept:
		req := new(dns.Msg)
		if err := req.Unpack(pkt); err == nil {
			s.ServeDNS(w, req)
			return
		}
		s.metrics.CountResponse(dns.RcodeFormatError)
	}
	resp := &dns.Msg{MsgHdr: dns.MsgHdr{Id: dh.Id, Response: true, Opcode: int(dh.Bits>>11) & 0xf,
		RecursionDesired: dh.Bits&(1<<8) != 0, Rcode: rcode}}
	_ = w.WriteMsg(resp)
}

// udpWriter is the dns.ResponseWriter of one datagram.
type udpWriter struct {
	conn *net.UDPConn
	addr netip.AddrPort
}

func (w *udpWriter) LocalAddr() net.Addr  { return w.conn.LocalAddr() }
func (w *udpWriter) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(w.addr) }
func (w *udpWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *udpWriter) Write(b []byte) (int, error) { return w.conn.WriteToUDPAddrPort(b, w.addr) }
func (w *udpWriter) Close() error                { return nil }
func (w *udpWriter) TsigStatus() error           { return nil }
func (w *udpWriter) TsigTimersOnly(bool)         {}
func (w *udpWriter) Hijack()                     {}
