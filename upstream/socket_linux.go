package upstream

import (
	"fmt"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// remote is an upstream's address, as the raw sockaddr connect takes.
type remote struct {
	ap    netip.AddrPort
	raw   unix.RawSockaddrInet6 // a sockaddr_in in its first bytes for IPv4
	rawSz uintptr
}

func newRemote(ap netip.AddrPort) remote {
	r := remote{ap: ap}
	if ap.Addr().Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.raw))
		sa.Family, sa.Addr = unix.AF_INET, ap.Addr().As4()
		putPort(&sa.Port, ap.Port())
		r.rawSz = unix.SizeofSockaddrInet4
	} else {
		r.raw.Family, r.raw.Addr = unix.AF_INET6, ap.Addr().As16()
		putPort(&r.raw.Port, ap.Port())
		r.rawSz = unix.SizeofSockaddrInet6
	}
	return r
}

// putPort stores port in network byte order, as a sockaddr holds it.
func putPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
}

// sys is what a socket keeps for its queries on Linux: the functions its
// RawConn runs, made once per socket (a function passed to RawConn escapes:
// made per query, it would be allocated per query), and their arguments
// and results. The calls are raw: the runtime's syscall bookkeeping would
// wake its sysmon thread.
type sys struct {
	to                      *remote // where connect goes
	errno                   unix.Errno
	connectFn, disconnectFn func(fd uintptr)
	exchange                // roundTrip's (roundtrip_linux.go)
}

func (s *sys) bind() {
	var unspec unix.RawSockaddrInet6 // zero: sa_family AF_UNSPEC
	s.connectFn = func(fd uintptr) {
		_, _, s.errno = unix.RawSyscall(unix.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&s.to.raw)), s.to.rawSz)
	}
	s.disconnectFn = func(fd uintptr) {
		// The kernel forgets the peer and, the port having been bound by
		// connect, releases it (udp_disconnect).
		_, _, s.errno = unix.RawSyscall(unix.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&unspec)), unsafe.Sizeof(unspec))
	}
	s.exchange.bind()
}

// sockets keeps the idle sockets, disconnected (holding no port), by
// address family.
type sockets struct {
	v4, v6 chan *upstreamSocket
}

func newSockets(maxIdle int) *sockets {
	return &sockets{v4: make(chan *upstreamSocket, maxIdle), v6: make(chan *upstreamSocket, maxIdle)}
}

func (p *sockets) idle(v6 bool) chan *upstreamSocket {
	if v6 {
		return p.v6
	}
	return p.v4
}

// connect returns a socket connected to r from a new random port: an idle
// one, or a new one.
func (p *sockets) connect(r remote) (*upstreamSocket, error) {
	v6 := !r.ap.Addr().Is4()
	var s *upstreamSocket
	select {
	case s = <-p.idle(v6):
	default:
		var err error
		if s, err = openSocket(v6); err != nil {
			return nil, err
		}
	}
	s.to = &r
	if err := firstErr(s.raw.Control(s.connectFn), errnoErr(s.errno)); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return s, nil
}

// release gives the socket's port up and keeps the socket for another
// query; a socket whose exchange failed is closed instead.
func (p *sockets) release(s *upstreamSocket, failed bool) {
	if !failed && firstErr(s.raw.Control(s.disconnectFn), errnoErr(s.errno)) == nil {
		select {
		case p.idle(s.v6) <- s:
			return
		default:
		}
	}
	s.Close()
}

// close closes the idle sockets.
func (p *sockets) close() {
	for _, ch := range []chan *upstreamSocket{p.v4, p.v6} {
		for {
			select {
			case s := <-ch:
				s.Close()
				continue
			default:
			}
			break
		}
	}
}

// openSocket makes an unbound non-blocking UDP socket, registered with the
// netpoller once for all the queries it will carry.
func openSocket(v6 bool) (*upstreamSocket, error) {
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "upstream")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &upstreamSocket{packetSocket: f, raw: raw, v6: v6}
	s.bind()
	return s, nil
}

// localAddr is the socket's address (for dnstap), read from the kernel.
func localAddr(s *upstreamSocket) netip.AddrPort {
	var addr netip.AddrPort
	_ = s.raw.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		if err != nil {
			return
		}
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		case *unix.SockaddrInet6:
			addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
		}
	})
	return addr
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
