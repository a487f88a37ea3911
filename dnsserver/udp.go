package dnsserver

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/s3dns/s3dns/wire"
)

// udpBatch is how many datagrams one system call reads or writes
// (recvmmsg/sendmmsg on Linux): under load, syscalls are most of the cost.
const udpBatch = 32

// udpQueryBuffer bounds a query datagram; longer ones arrive truncated and
// are dropped (real queries are a few hundred bytes at most).
const udpQueryBuffer = 4096

// batchConn is the batch I/O of golang.org/x/net's ipv4 and ipv6 PacketConn.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(conn *net.UDPConn) batchConn {
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(conn)
	}
	return ipv4.NewPacketConn(conn)
}

// serveUDP reads queries from one socket: the fast path answers in the
// reading goroutine, everything else gets a goroutine of its own on the
// full path (ServeDNS), so that a slow upstream never holds the socket.
//
// On a wildcard socket (withOOB) each reply is sent from the address its
// query arrived at.
func (s *Server) serveUDP(conn *net.UDPConn, withOOB bool) {
	bc := newBatchConn(conn)
	in := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, udpQueryBuffer)}
		if withOOB {
			in[i].OOB = make([]byte, oobSize)
		}
	}
	out := make([]ipv4.Message, udpBatch)
	outBufs := make([][]byte, udpBatch)
	oobBufs := make([][]byte, udpBatch)
	for i := range out {
		outBufs[i] = make([]byte, 0, maxUDPSize+64)
		oobBufs[i] = make([]byte, 0, oobSize)
		out[i].Buffers = [][]byte{nil}
	}
	sc := newScratch()
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				s.log.Debug("UDP read failed", "error", err)
			}
			continue
		}
		start := time.Now()
		st := s.state.Load()
		replies := 0
		for i := range n {
			m := &in[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok || m.Flags&unix.MSG_TRUNC != 0 {
				continue
			}
			addr := ua.AddrPort()
			pkt := m.Buffers[0][:m.N]
			var oob []byte
			if withOOB {
				if dst, ok := dstFromOOB(m.OOB[:m.NN]); ok {
					oob = appendSourceOOB(oobBufs[replies][:0], dst)
				}
			}
			sc.out = outBufs[replies][:0] // the answer is built where it is sent from
			r, ok := s.fastAnswer(st, pkt, addr.Addr().Unmap(), maxUDPSize, sc)
			if ok {
				out[replies].Buffers[0] = r.resp
				out[replies].Addr = ua
				out[replies].OOB = oob
				replies++
				s.countFast(st, addr, r, start)
				continue
			}
			if s.slowActive.Load() >= int64(s.opts.MaxFullPath) {
				// Overloaded: a quick SERVFAIL beats a goroutine per query piling up.
				if q, ok := wire.ParseQuery(pkt); ok {
					outBufs[replies] = wire.AppendError(outBufs[replies][:0], &q, dns.RcodeServerFailure)
					out[replies].Buffers[0] = outBufs[replies]
					out[replies].Addr = ua
					out[replies].OOB = oob
					replies++
					s.metrics.CountResponse(dns.RcodeServerFailure)
				}
				continue
			}
			pkt = append([]byte(nil), pkt...)
			oob = append([]byte(nil), oob...)
			s.slow.Add(1)
			s.slowActive.Add(1)
			go func() {
				defer s.slow.Done()
				defer s.slowActive.Add(-1)
				s.serveUDPPacket(&udpWriter{conn: conn, addr: addr, oob: oob, rateCounted: r.rateCounted}, pkt)
			}()
		}
		for sent := 0; sent < replies; {
			k, err := bc.WriteBatch(out[sent:replies], 0)
			if err != nil {
				s.log.Debug("writing replies failed", "error", err)
				break
			}
			sent += k
		}
	}
}

func (s *Server) countFast(st *State, addr netip.AddrPort, r fastResult, start time.Time) {
	s.metrics.CountRequest("udp", r.qtype, r.action)
	s.metrics.CountResponse(r.rcode)
	s.metrics.ObserveDuration(r.action, time.Since(start).Seconds())
	if st.Config.Log.Queries {
		s.logFast(addr, r, start)
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
func (s *Server) serveUDPPacket(w *udpWriter, pkt []byte) {
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
	oob  []byte // the reply's source address, on a wildcard socket
	// rateCounted: the fast path already took this query's rate token.
	rateCounted bool
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
func (w *udpWriter) Write(b []byte) (int, error) {
	n, _, err := w.conn.WriteMsgUDPAddrPort(b, w.oob, w.addr)
	return n, err
}
func (w *udpWriter) Close() error        { return nil }
func (w *udpWriter) TsigStatus() error   { return nil }
func (w *udpWriter) TsigTimersOnly(bool) {}
func (w *udpWriter) Hijack()             {}
