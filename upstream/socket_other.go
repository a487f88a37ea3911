//go:build !linux

package upstream

import (
	"net"
	"net/netip"
)

// remote is an upstream's address.
type remote struct{ ap netip.AddrPort }

func newRemote(ap netip.AddrPort) remote { return remote{ap: ap} }

// sys is empty here: nothing is kept per socket.
type sys struct{}

// sockets opens a socket per query here: other systems do not promise to
// release an autobound port on disconnect, as Linux does.
type sockets struct{}

func newSockets(int) *sockets { return &sockets{} }

// connect returns a new socket connected to raddr from a random port.
func (p *sockets) connect(r remote) (*upstreamSocket, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.ap))
	if err != nil {
		return nil, err
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &upstreamSocket{packetSocket: conn, raw: raw, v6: !r.ap.Addr().Is4()}, nil
}

// release closes the socket: its port goes with it.
func (p *sockets) release(s *upstreamSocket, _ bool) { s.Close() }

func (p *sockets) close() {}

// localAddr is the socket's address (for dnstap).
func localAddr(s *upstreamSocket) netip.AddrPort {
	return s.packetSocket.(*net.UDPConn).LocalAddr().(*net.UDPAddr).AddrPort()
}
