package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Bound is one listen address: its UDP sockets, one per CPU where the
// platform lets them share the port, and its TCP listener.
type Bound struct {
	UDP      []*net.UDPConn
	TCP      net.Listener
	Wildcard bool // the address is 0.0.0.0, [::] or none: replies need packet info
}

// Listen binds UDP (sockets of them, see listenPair) and TCP on addr.
func Listen(addr string, sockets int) (Bound, error) {
	pcs, ln, err := listenPair(addr, sockets)
	if err != nil {
		return Bound{}, err
	}
	b := Bound{TCP: ln, Wildcard: isWildcard(addr)}
	for _, pc := range pcs {
		b.UDP = append(b.UDP, pc.(*net.UDPConn))
	}
	return b, nil
}

// Close closes every socket of b.
func (b Bound) Close() {
	for _, c := range b.UDP {
		c.Close()
	}
	b.TCP.Close()
}

// PrepareUDP readies a listening socket: room for bursts while its reader
// is busy (capped by net.core.rmem_max) and, on a wildcard address, the
// destination of each datagram (withOOB), so that replies leave from it.
func PrepareUDP(conn *net.UDPConn, wildcard bool) (withOOB bool, err error) {
	_ = conn.SetReadBuffer(4 << 20)
	if !wildcard {
		return false, nil
	}
	if err := enablePktinfo(conn); err != nil {
		return false, err
	}
	return true, nil
}

func isWildcard(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return host == "" || err == nil && ip.IsUnspecified()
}

// listenPair binds UDP and TCP on the same address. With port 0 it picks a
// port free for both, retrying a few times when TCP finds it taken. With
// sockets > 1 it binds that many UDP sockets where the platform lets them
// share the port (reusePort), so that the kernel spreads queries over one
// reader per CPU; elsewhere one socket serves.
//
// As in BIND and Unbound, an IPv4 address (0.0.0.0 included) is IPv4 only
// and an IPv6 address ([::] included) IPv6 only (IPV6_V6ONLY), so that
// "0.0.0.0:53" and "[::]:53" bind side by side; a bare ":53" takes both
// families on one socket.
func listenPair(addr string, sockets int) ([]net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	udp, tcp := networksFor(host)
	tries := 1
	if port == "0" {
		tries = 10
	}
	lc := net.ListenConfig{Control: reusePort}
	var lastErr error
	for range tries {
		pc, err := lc.ListenPacket(context.Background(), udp, addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on %s/udp: %w", addr, err)
		}
		bound := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := net.Listen(tcp, bound)
		if err != nil {
			pc.Close()
			lastErr = fmt.Errorf("listening on %s/tcp: %w", bound, err)
			continue
		}
		conns := []net.PacketConn{pc}
		for len(conns) < sockets {
			extra, err := lc.ListenPacket(context.Background(), udp, bound)
			if err != nil {
				break // one socket still serves
			}
			conns = append(conns, extra)
		}
		return conns, ln, nil
	}
	return nil, nil, errors.Join(lastErr)
}

// networksFor names the UDP and TCP networks for a listen host: one family
// for an address, both for none.
func networksFor(host string) (udp, tcp string) {
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return "udp", "tcp"
	case a.Is4() || a.Is4In6():
		return "udp4", "tcp4"
	default:
		return "udp6", "tcp6"
	}
}

// AddrPortOf is a UDP or TCP address with its port, IPv4 unmapped.
func AddrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// ListenStreams binds a TCP listener on each address, with the family rule
// of Listen ("0.0.0.0:853" is IPv4 only, "[::]:853" IPv6 only, ":853"
// both), every one or none: the DoT and DoH listeners.
func ListenStreams(addrs ...string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		var ln net.Listener
		if err == nil {
			_, tcp := networksFor(host)
			ln, err = net.Listen(tcp, a)
		}
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
