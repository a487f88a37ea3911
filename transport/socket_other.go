//go:build !linux

package transport

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// The portable socket layer: one UDP socket per address and no
// destination addresses; a wildcard listener's replies then leave by the
// route the kernel picks.

const oobSize = 0

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }

func enablePktinfo(*net.UDPConn) error {
	return errors.New("packet information is only read on Linux")
}

func dstFromOOB([]byte) (netip.Addr, bool) { return netip.Addr{}, false }

func appendSourceOOB(dst []byte, _ netip.Addr) []byte { return dst }
