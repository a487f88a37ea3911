package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// The programs a reuseport group runs for each datagram (classic BPF: no
// privilege, Linux 4.5 on). The value is the index of the socket in the
// group, in the order the sockets were bound; an index out of range makes
// the kernel fall back to its hash.
var (
	toFirstSocket = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	byKernelHash  = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: ^uint32(0)}}
)

// steer makes the kernel spread the datagrams of conn's reuseport group
// over every socket, or hand them all to the first.
func steer(conn *net.UDPConn, spread bool) error {
	prog := toFirstSocket
	if spread {
		prog = byKernelHash
	}
	return setSockopt(conn, func(fd int) error {
		return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF,
			&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]})
	})
}
