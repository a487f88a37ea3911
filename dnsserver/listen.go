package dnsserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listenPair binds UDP and TCP on the same address. With port 0 it picks a
// port free for both, retrying a few times when TCP finds it taken.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	var lastErr error
	for range tries {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on %s/udp: %w", addr, err)
		}
		bound := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := net.Listen("tcp", bound)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = fmt.Errorf("listening on %s/tcp: %w", bound, err)
	}
	return nil, nil, errors.Join(lastErr)
}
