package upstream

import (
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// exchange is what roundTrip's function reads and writes, kept on the
// socket so that the function is made once per socket.
type exchange struct {
	q       *dns.Msg
	packed  []byte // the query
	buf     []byte // for replies
	onSpoof func()
	sent    bool
	resp    *dns.Msg
	failed  unix.Errno
	readFn  func(fd uintptr) bool
}

// roundTrip sends q on c and waits, until c's read deadline, for the reply
// with q's ID and question, using buf.
//
// The query is written from inside the netpoller's wait: RawConn.Read arms
// it before calling the function, so a reply that comes back at once is not
// missed, and the read that could only find nothing yet is never made. The
// system calls are raw (the socket is non-blocking): the runtime's syscall
// bookkeeping would wake its sysmon thread after every idle moment.
func roundTrip(c *upstreamSocket, buf []byte, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	packed, err := packQuery(buf, q)
	if err != nil {
		return nil, err
	}
	x := &c.exchange
	// Replies are read into buf too: the query is sent by then.
	x.q, x.packed, x.buf, x.onSpoof, x.sent, x.resp, x.failed = q, packed, buf[:cap(buf)], onSpoof, false, nil, 0
	err = c.raw.Read(x.readFn)
	resp, failed := x.resp, x.failed
	x.q, x.packed, x.buf, x.onSpoof, x.resp = nil, nil, nil, nil, nil // an idle socket holds nothing
	switch {
	case err != nil:
		return nil, err
	case failed != 0:
		return nil, failed
	}
	return resp, nil
}

func (x *exchange) bind() {
	x.readFn = func(fd uintptr) bool {
		if !x.sent {
			x.sent = true
			_, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&x.packed[0])), uintptr(len(x.packed)))
			x.failed = e
			return e != 0 // sent: wait for the reply
		}
		for {
			n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&x.buf[0])), uintptr(len(x.buf)))
			switch e {
			case 0:
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				continue
			default:
				x.failed = e // an ICMP error: nothing listens there
				return true
			}
			if r, ok := reply(x.buf[:n], x.q); ok {
				x.resp = r
				return true
			}
			// Garbage or a forged reply on a connected socket: keep waiting for the real one.
			if x.onSpoof != nil {
				x.onSpoof()
			}
		}
	}
}
