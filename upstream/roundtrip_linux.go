package upstream

import (
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// roundTrip sends q on c and waits, until c's read deadline, for the reply
// with q's ID and question, using buf.
//
// The query is written from inside the netpoller's wait: RawConn.Read arms
// it before calling the function, so a reply that comes back at once is not
// missed, and the read that could only find nothing yet is never made. The
// system calls are raw (the socket is non-blocking): the runtime's syscall
// bookkeeping would wake its sysmon thread after every idle moment.
func roundTrip(c *pooledConn, buf []byte, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	packed, err := q.PackBuffer(buf)
	if err != nil {
		return nil, err
	}
	var resp *dns.Msg
	var errno unix.Errno
	sent := false
	err = c.raw.Read(func(fd uintptr) bool {
		if !sent {
			sent = true
			_, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&packed[0])), uintptr(len(packed)))
			errno = e
			return e != 0 // sent: wait for the reply
		}
		for {
			n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			switch e {
			case 0:
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				continue
			default:
				errno = e // an ICMP error: nothing listens there
				return true
			}
			if r, ok := reply(buf[:n], q); ok {
				resp = r
				return true
			}
			// Garbage or a forged reply on a connected socket: keep waiting for the real one.
			if onSpoof != nil {
				onSpoof()
			}
		}
	})
	switch {
	case err != nil:
		return nil, err
	case errno != 0:
		return nil, errno
	}
	return resp, nil
}
