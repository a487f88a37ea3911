//go:build !linux

package dnsserver

import (
	"net"
	"time"
)

// serveUDP reads queries from one socket until Shutdown, one datagram per
// system call: the portable form of udp_linux.go's batches.
func (s *Server) serveUDP(conn *net.UDPConn, _ bool, _ *udpGroup, _ int) {
	in := make([]byte, udpQueryBuffer)
	out := make([]byte, 0, 2048)
	sc := newScratch()
	local := addrPortOf(conn.LocalAddr())
	sock := &udpSocket{conn: conn}
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(in)
		if err != nil {
			if s.readStops(err) {
				return
			}
			continue
		}
		resp := s.serveDatagram(s.state.Load(), sock, in[:n], udpPeer{addr: addr}, local, nil, time.Now(), out[:0], sc)
		if resp != nil {
			if _, err := conn.WriteToUDPAddrPort(resp, addr); err != nil {
				s.log.Debug("writing a reply failed", "error", err)
			}
		}
	}
}

func (w *udpReply) write(b []byte) error {
	_, _, err := w.sock.conn.WriteMsgUDPAddrPort(b, w.oob, w.addr)
	return err
}
