package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BatchSize is how many datagrams one system call reads or writes
// (recvmmsg/sendmmsg): under load, syscalls are most of the cost.
const BatchSize = 32

// mmsghdr is struct mmsghdr: one datagram of a recvmmsg/sendmmsg batch.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// udpBatch is one socket's reader: a batch of datagrams in, the fast
// replies out in one batch, every buffer reused. The batches go to the
// kernel through raw system calls (the socket is non-blocking): the
// runtime's syscall bookkeeping, which wakes its sysmon thread after every
// idle moment — once per datagram at a light load — is skipped. A read
// that finds nothing parks the goroutine in the netpoller as net's do.
type udpBatch struct {
	r       Reader
	opts    Options
	sock    *udpSocket
	withOOB bool
	in, out []mmsghdr
	inIov   []unix.Iovec
	outIov  []unix.Iovec
	inBufs  [][]byte
	inNames []sockaddr
	inOOB   [][]byte
	outBufs [][]byte
	oobBufs [][]byte
	replies int
	// recv and send, bound once, and what their system calls returned.
	recv, send  func(fd uintptr) bool
	errno       syscall.Errno // recvmmsg's, other than "nothing to read"
	sent, wrote int
	sendErrno   syscall.Errno
	d           Datagram       // the one being answered
	local       netip.AddrPort // the socket's address
	group       *Group         // the address's sockets; this one is number index
	index       int
}

func newUDPBatch(r Reader, opts Options, conn *net.UDPConn, raw syscall.RawConn, withOOB bool) *udpBatch {
	b := &udpBatch{r: r, opts: opts, sock: &udpSocket{conn: conn, raw: raw}, withOOB: withOOB, local: AddrPortOf(conn.LocalAddr()),
		in: make([]mmsghdr, BatchSize), out: make([]mmsghdr, BatchSize),
		inIov: make([]unix.Iovec, BatchSize), outIov: make([]unix.Iovec, BatchSize),
		inBufs: make([][]byte, BatchSize), inNames: make([]sockaddr, BatchSize), inOOB: make([][]byte, BatchSize),
		outBufs: make([][]byte, BatchSize), oobBufs: make([][]byte, BatchSize)}
	b.recv, b.send = b.recvBatch, b.sendBatch
	for i := range BatchSize {
		b.inBufs[i] = make([]byte, QueryBuffer)
		b.inIov[i].Base = &b.inBufs[i][0]
		b.inIov[i].SetLen(QueryBuffer)
		h := &b.in[i].hdr
		h.Name = &b.inNames[i][0]
		h.Iov = &b.inIov[i]
		h.SetIovlen(1)
		if withOOB {
			b.inOOB[i] = make([]byte, oobSize)
			h.Control = &b.inOOB[i][0]
		}
		b.outBufs[i] = make([]byte, 0, 2048)
		b.oobBufs[i] = make([]byte, 0, oobSize)
		b.out[i].hdr.Iov = &b.outIov[i]
		b.out[i].hdr.SetIovlen(1)
	}
	return b
}

// ServeUDP reads queries from socket i of group until the server stops,
// handing each to r: its fast replies are sent from the reading goroutine,
// in batches; a miss r answers later, so that a slow upstream never holds
// the socket.
func ServeUDP(conn *net.UDPConn, withOOB bool, group *Group, i int, r Reader, opts Options) {
	raw, err := conn.SyscallConn()
	if err != nil {
		opts.Log.Error("UDP socket unusable", "error", err)
		return
	}
	b := newUDPBatch(r, opts, conn, raw, withOOB)
	b.group, b.index = group, i
	for {
		b.errno = 0
		err := raw.Read(b.recv)
		if err == nil && b.errno != 0 {
			err = b.errno // an ICMP error reported on the socket: the next read goes on
		}
		if err != nil && opts.readStops(err) {
			return
		}
	}
}

// recvBatch reads a batch and answers it, from inside RawConn.Read; it is
// bound once as recv, since a closure passed to Read would be allocated on
// every read. A short batch means the socket was empty: the goroutine then
// waits in the netpoller for the next datagram straight away, without one
// more read that would find nothing (at a light load, one system call in
// five) — the kernel signals every datagram that arrives after the read, so
// none waits unseen. A full batch may leave datagrams whose one signal the
// netpoller has already taken: it returns, and serveUDP's next Read reads
// before it waits.
func (b *udpBatch) recvBatch(fd uintptr) bool {
	for i := range b.in {
		h := &b.in[i].hdr
		h.Namelen = uint32(len(sockaddr{}))
		if b.withOOB {
			h.SetControllen(oobSize)
		}
		h.Flags = 0
	}
	// From here to the last reply sent the reader is busy (Group): the
	// read counts, as it is most of a saturated reader's time.
	start := time.Now()
	r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), uintptr(len(b.in)), unix.MSG_DONTWAIT, 0, 0)
	switch {
	case e == unix.EAGAIN || e == unix.EINTR:
		return false
	case e != 0:
		b.errno = e
		return true
	}
	n := int(r)
	for i := range n {
		b.handle(i, start)
	}
	b.flush()
	if b.group.steered() { // a lone socket has nothing to judge: no clock read
		b.group.answered(b.index, n, start, time.Now())
	}
	return n == len(b.in)
}

// sockaddrPort reads a sockaddr_in or sockaddr_in6.
func sockaddrPort(sa *sockaddr, n uint32) (netip.AddrPort, bool) {
	family := *(*uint16)(unsafe.Pointer(&sa[0]))
	port := binary.BigEndian.Uint16(sa[2:4])
	switch {
	case family == unix.AF_INET && n >= unix.SizeofSockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port), true
	case family == unix.AF_INET6 && n >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port), true
	}
	return netip.AddrPort{}, false
}

// handle answers datagram i, queueing a fast reply for flush.
func (b *udpBatch) handle(i int, start time.Time) {
	m := &b.in[i]
	addr, ok := sockaddrPort(&b.inNames[i], m.hdr.Namelen)
	if !ok || m.hdr.Flags&unix.MSG_TRUNC != 0 {
		return
	}
	var oob []byte
	local := b.local
	if b.withOOB {
		if dst, ok := dstFromOOB(b.inOOB[i][:m.hdr.Controllen]); ok {
			oob = appendSourceOOB(b.oobBufs[b.replies][:0], dst)
			local = netip.AddrPortFrom(dst, local.Port())
		}
	}
	b.d = Datagram{Pkt: b.inBufs[i][:m.n], From: addr, Local: local, Start: start, sock: b.sock, name: &b.inNames[i], nlen: m.hdr.Namelen, oob: oob}
	resp := b.r.Answer(&b.d, b.outBufs[b.replies][:0])
	if len(resp) == 0 {
		return
	}
	// The reply goes back to the very sockaddr the query came from.
	out := &b.out[b.replies]
	b.outIov[b.replies].Base = &resp[0]
	b.outIov[b.replies].SetLen(len(resp))
	out.hdr.Name, out.hdr.Namelen = &b.inNames[i][0], m.hdr.Namelen
	out.hdr.Control = nil
	out.hdr.SetControllen(0)
	if len(oob) > 0 {
		out.hdr.Control = &oob[0]
		out.hdr.SetControllen(len(oob))
	}
	b.outBufs[b.replies] = resp[:0]
	b.replies++
}

// flush sends the queued replies.
func (b *udpBatch) flush() {
	for b.sent = 0; b.sent < b.replies; {
		b.wrote, b.sendErrno = 0, 0
		err := b.sock.raw.Write(b.send)
		switch {
		case err != nil: // the socket is closing
			b.opts.Log.Debug("writing replies failed", "error", err)
			b.replies = 0
			return
		case b.sendErrno != 0 || b.wrote <= 0:
			// The first reply left could not be sent (the kernel says so only
			// for it): skip it, send the rest.
			b.opts.Log.Debug("writing a reply failed", "error", b.sendErrno)
			b.sent++
		default:
			b.sent += b.wrote
		}
	}
	b.replies = 0
}

// sendBatch is flush's system call, bound once as send (see recvBatch).
func (b *udpBatch) sendBatch(fd uintptr) bool {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[b.sent])), uintptr(b.replies-b.sent), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EINTR {
		return false // the send buffer is full: wait until it drains
	}
	b.wrote, b.sendErrno = int(r), e
	return true
}

// replySys is what Write's system call reads and writes, in the Reply (one
// allocation per later reply, not one per field).
type replySys struct {
	h      unix.Msghdr
	iov    unix.Iovec
	errno  syscall.Errno
	sendFn func(fd uintptr) bool
}

// Write sends the reply with a raw sendmsg, for the reason udpBatch gives,
// to the sockaddr the query came from.
func (w *Reply) Write(b []byte) error {
	if w.namelen == 0 {
		return errors.New("no address to reply to")
	}
	w.h = unix.Msghdr{Name: &w.name[0], Namelen: w.namelen}
	w.iov = unix.Iovec{Base: &b[0]}
	w.iov.SetLen(len(b))
	w.h.Iov = &w.iov
	w.h.SetIovlen(1)
	if len(w.oob) > 0 {
		w.h.Control = &w.oob[0]
		w.h.SetControllen(len(w.oob))
	}
	w.errno = 0
	if w.sendFn == nil {
		w.sendFn = w.sendmsg
	}
	if err := w.sock.raw.Write(w.sendFn); err != nil {
		return err
	}
	if w.errno != 0 {
		return w.errno
	}
	return nil
}

func (w *Reply) sendmsg(fd uintptr) bool {
	_, _, e := unix.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&w.h)), unix.MSG_DONTWAIT)
	if e == unix.EAGAIN || e == unix.EINTR {
		return false // the send buffer is full: wait until it drains
	}
	w.errno = e
	return true
}

// sockaddr must hold the largest address the reader accepts.
const _ = uint(len(sockaddr{}) - unix.SizeofSockaddrInet6)
