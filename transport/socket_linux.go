package transport

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Linux socket layer: SO_REUSEPORT for one UDP socket per CPU, and the
// destination address of each datagram.
//
// The control messages are read and written here by hand rather than with
// golang.org/x/net's ipv4.ControlMessage, which allocates for every
// datagram parsed or marshalled.
//
// On a wildcard address a reply must leave from the address its query was
// sent to, or a client of a multi-homed host drops it. The kernel reports
// that address with each datagram (IP_PKTINFO / IPV6_PKTINFO) and takes it
// back as the source of the reply, as miekg/dns's server does.

// oobSize holds one IPv4 or IPv6 packet-info control message.
var oobSize = max(unix.CmsgSpace(unix.SizeofInet4Pktinfo), unix.CmsgSpace(unix.SizeofInet6Pktinfo))

var zeros [64]byte

// unsafePointer views the start of b as a control message header.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// enablePktinfo asks the kernel for the destination address of each datagram.
func enablePktinfo(conn *net.UDPConn) error {
	v6 := conn.LocalAddr().(*net.UDPAddr).IP.To4() == nil
	return setSockopt(conn, func(fd int) error {
		if v6 {
			// IPv4 datagrams on a dual-stack socket carry IP_PKTINFO; an
			// IPv6-only socket refuses this, which is fine.
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
	})
}

// setSockopt runs set on conn's descriptor.
func setSockopt(conn *net.UDPConn, set func(fd int) error) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	return control(raw, set)
}

// control runs set on a socket's descriptor and returns either error.
func control(raw syscall.RawConn, set func(fd int) error) error {
	var sockErr error
	if err := raw.Control(func(fd uintptr) { sockErr = set(int(fd)) }); err != nil {
		return err
	}
	return sockErr
}

// dstFromOOB finds the destination address in received control messages.
func dstFromOOB(oob []byte) (netip.Addr, bool) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafePointer(oob))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return netip.Addr{}, false
		}
		data := oob[unix.CmsgLen(0):l]
		switch {
		case h.Level == syscall.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			return netip.AddrFrom4([4]byte(data[8:12])), true
		case h.Level == syscall.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			return netip.AddrFrom16([16]byte(data[:16])), true
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return netip.Addr{}, false
}

// appendSourceOOB appends the control message that makes src the source
// address of a reply (interface index 0: the kernel routes it).
func appendSourceOOB(dst []byte, src netip.Addr) []byte {
	if src.Is4() {
		// in_pktinfo: ifindex, spec_dst (the source to use), addr.
		var info [unix.SizeofInet4Pktinfo]byte
		a := src.As4()
		copy(info[4:], a[:])
		return appendCmsg(dst, syscall.IPPROTO_IP, unix.IP_PKTINFO, info[:])
	}
	// in6_pktinfo: addr, ifindex.
	var info [unix.SizeofInet6Pktinfo]byte
	a := src.As16()
	copy(info[:], a[:])
	return appendCmsg(dst, syscall.IPPROTO_IPV6, unix.IPV6_PKTINFO, info[:])
}

// appendCmsg appends one control message carrying data.
func appendCmsg(dst []byte, level, typ int32, data []byte) []byte {
	start := len(dst)
	dst = append(dst, zeros[:unix.CmsgSpace(len(data))]...)
	h := (*unix.Cmsghdr)(unsafePointer(dst[start:]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(dst[start+unix.CmsgLen(0):], data)
	return dst
}

// reusePort sets SO_REUSEPORT on a socket before it is bound, so that the
// kernel spreads queries over one reader per CPU.
func reusePort(_, _ string, c syscall.RawConn) error {
	return control(c, func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
}
