//go:build !linux

package transport

import (
	"net"
	"time"
)

// BatchSize: one datagram per system call here.
const BatchSize = 1

// ServeUDP reads queries from one socket until the server stops, one
// datagram per system call: the portable form of udp_linux.go's batches.
func ServeUDP(conn *net.UDPConn, _ bool, _ *Group, _ int, r Reader, opts Options) {
	in := make([]byte, QueryBuffer)
	out := make([]byte, 0, 2048)
	local := AddrPortOf(conn.LocalAddr())
	sock := &udpSocket{conn: conn}
	var d Datagram
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(in)
		if err != nil {
			if opts.readStops(err) {
				return
			}
			continue
		}
		d = Datagram{Pkt: in[:n], From: addr, Local: local, Start: time.Now(), sock: sock}
		if resp := r.Answer(&d, out[:0]); resp != nil {
			if _, err := conn.WriteToUDPAddrPort(resp, addr); err != nil {
				opts.Log.Debug("writing a reply failed", "error", err)
			}
		}
	}
}

// replySys: nothing kept for the portable Write.
type replySys struct{}

// Write sends the reply.
func (w *Reply) Write(b []byte) error {
	_, _, err := w.sock.conn.WriteMsgUDPAddrPort(b, w.oob, w.addr)
	return err
}
