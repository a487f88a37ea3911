package dnsserver

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// udpBatchSize is how many datagrams one system call reads or writes
// (recvmmsg/sendmmsg): under load, syscalls are most of the cost.
const udpBatchSize = 32

// batchConn is the batch I/O of golang.org/x/net's ipv4 and ipv6 PacketConn.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpBatch is one socket's reader: a batch of datagrams in, the fast
// replies out in one batch, every buffer reused.
type udpBatch struct {
	s       *Server
	conn    *net.UDPConn
	bc      batchConn
	withOOB bool
	in, out []ipv4.Message
	outBufs [][]byte
	oobBufs [][]byte
	replies int
	sc      *scratch
	local   netip.AddrPort // the socket's address
}

func newUDPBatch(s *Server, conn *net.UDPConn, withOOB bool) *udpBatch {
	b := &udpBatch{s: s, conn: conn, withOOB: withOOB, sc: newScratch(), local: addrPortOf(conn.LocalAddr()),
		in: make([]ipv4.Message, udpBatchSize), out: make([]ipv4.Message, udpBatchSize),
		outBufs: make([][]byte, udpBatchSize), oobBufs: make([][]byte, udpBatchSize)}
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		b.bc = ipv6.NewPacketConn(conn)
	} else {
		b.bc = ipv4.NewPacketConn(conn)
	}
	for i := range udpBatchSize {
		b.in[i].Buffers = [][]byte{make([]byte, udpQueryBuffer)}
		if withOOB {
			b.in[i].OOB = make([]byte, oobSize)
		}
		b.outBufs[i] = make([]byte, 0, 2048)
		b.oobBufs[i] = make([]byte, 0, oobSize)
		b.out[i].Buffers = [][]byte{nil}
	}
	return b
}

// serveUDP reads queries from one socket until Shutdown. Fast answers are
// sent from the reading goroutine; misses get a goroutine of their own on
// the full path, so that a slow upstream never holds the socket.
func (s *Server) serveUDP(conn *net.UDPConn, withOOB bool) {
	b := newUDPBatch(s, conn, withOOB)
	for {
		n, err := b.bc.ReadBatch(b.in, 0)
		if err != nil {
			if s.readStops(err) {
				return
			}
			continue
		}
		st, start := s.state.Load(), time.Now()
		for i := range n {
			b.handle(st, &b.in[i], start)
		}
		b.flush()
	}
}

// handle answers one datagram, queueing a fast reply for flush.
func (b *udpBatch) handle(st *State, m *ipv4.Message, start time.Time) {
	ua, ok := m.Addr.(*net.UDPAddr)
	if !ok || m.Flags&unix.MSG_TRUNC != 0 {
		return
	}
	var oob []byte
	local := b.local
	if b.withOOB {
		if dst, ok := dstFromOOB(m.OOB[:m.NN]); ok {
			oob = appendSourceOOB(b.oobBufs[b.replies][:0], dst)
			local = netip.AddrPortFrom(dst, local.Port())
		}
	}
	resp := b.s.serveDatagram(st, b.conn, m.Buffers[0][:m.N], ua.AddrPort(), local, oob, start, b.outBufs[b.replies][:0], b.sc)
	if resp == nil {
		return
	}
	out := &b.out[b.replies]
	out.Buffers[0], out.Addr, out.OOB = resp, ua, oob
	b.replies++
}

// flush sends the queued replies.
func (b *udpBatch) flush() {
	for sent := 0; sent < b.replies; {
		k, err := b.bc.WriteBatch(b.out[sent:b.replies], 0)
		if err != nil {
			b.s.log.Debug("writing replies failed", "error", err)
			break
		}
		sent += k
	}
	b.replies = 0
}
