package dnsserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/transport"
)

// tcpConn is one accepted connection and the replies it owes. One writer
// at a time holds the socket; replies ready meanwhile wait in a queue of
// at most limits.MaxQueued frames, which that writer (or one it hands the
// job to) writes next, in one write per batch. Nobody blocks behind a
// stalled write: the reader keeps reading, so a client that stops reading
// meets tcp.max_queued or tcp.write_timeout, whichever comes first. A
// reply that cannot be written whole ends the connection at once, so that
// no frame ever follows a partial one (RFC 7766 §8).
type tcpConn struct {
	net.Conn
	proto  metrics.Proto // TCP, or TLS for DNS over TLS
	client netip.Addr
	limits model.TCP
	// owed counts queries read whose replies are not written yet: a
	// connection with none is idle, and may give way to a new one.
	owed   atomic.Int32
	broken atomic.Bool
	// pending counts full-path answers and background writers not yet
	// done: the connection closes only after them.
	pending sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	writing  bool       // a writer holds the socket
	queue    []byte     // frames waiting for it, length-prefixed, in order
	waiting  []waiting  // their queries, recorded once written or dropped
	awaiting bool       // the reader waits for the next query: the idle clock is the writers' to start

	out, spare []byte // the writer's buffers (only the one holding the socket touches them)
	srv        *Server
}

// waiting is a queued reply's query and where its frame ends in the queue;
// whole is the reply when the queue holds only the rest of its frame.
type waiting struct {
	st    *State
	q     *query
	end   int
	whole []byte
}

func newTCPConn(c net.Conn, proto metrics.Proto, client netip.Addr, limits model.TCP) *tcpConn {
	return &tcpConn{Conn: c, proto: proto, client: client, limits: limits}
}

// peerNames are the names of the client's verified TLS certificate (DoT),
// nil over plain TCP or without one.
func (c *tcpConn) peerNames() []string {
	if p, ok := c.Conn.(*transport.LazyHandshake); ok {
		return p.PeerNames()
	}
	return nil
}

// keepalive is the idle timeout in edns-tcp-keepalive's 100 ms units
// (config validation keeps it within 16 bits).
func (c *tcpConn) keepalive() uint16 {
	return uint16(max(c.limits.IdleTimeout/(100*time.Millisecond), 1))
}

var (
	errQueueFull = errors.New("too many replies wait for a client that does not read")
	errClosed    = errors.New("the connection was closed")
	errTooLong   = errors.New("reply longer than a TCP message")
	// errRecorded tells send that the TCP writer records the query itself,
	// once the reply is written or dropped.
	errRecorded = errors.New("recorded by the TCP writer")
)

// deliver sends q's reply with its length prefix, whole or not at all, and
// records q once its fate is known (a reply never written is counted as a
// request without a response). When the socket is free it is written at
// once; the reader (pkt and sc given: q aliases them) writes only what the
// socket takes without waiting, and hands the rest to a goroutine, so that
// it never stops reading for a client that does not. When another writer
// holds the socket, the reply queues behind it (copied), at most
// tcp.max_queued of them.
func (c *tcpConn) deliver(st *State, q *query, resp []byte, fromReader bool) {
	if len(resp) > 0xffff {
		c.done(st, q, nil, errTooLong)
		return
	}
	c.mu.Lock()
	switch {
	case c.broken.Load():
		c.mu.Unlock()
		c.done(st, q, nil, errClosed)
		return
	case c.writing && len(c.waiting) >= c.limits.MaxQueued:
		c.mu.Unlock()
		c.done(st, q, nil, c.fail(closedQueueFull, errQueueFull))
		return
	case c.writing:
		c.enqueue(st, q, resp, fromReader)
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.out = appendFrame(c.out[:0], resp)
	if !fromReader {
		err := c.send(c.out)
		c.done(st, q, resp, err)
		if err == nil {
			c.drain()
		} else {
			c.release()
		}
		return
	}
	n, err := transport.TryWrite(c.Conn, c.out)
	if err != nil {
		c.done(st, q, nil, c.fail(closedWriteFailed, err))
		c.release()
		return
	}
	c.mu.Lock()
	if n < len(c.out) {
		// The client is not reading fast enough: the rest of this frame
		// goes first, ahead of anything queued meanwhile.
		rest := append(c.spare[:0], c.out[n:]...)
		shift := len(rest)
		rest = append(rest, c.queue...)
		c.spare, c.queue = c.queue, rest
		for i := range c.waiting {
			c.waiting[i].end += shift
		}
		c.waiting = append([]waiting{{st: st, q: q.settled(), end: shift, whole: bytes.Clone(resp)}}, c.waiting...)
		resp = nil // recorded once the rest is written
	}
	more := len(c.waiting) > 0
	if !more {
		c.writing = false
	}
	c.mu.Unlock()
	if resp != nil {
		c.done(st, q, resp, nil)
	}
	if more {
		c.pending.Add(1)
		go func() {
			defer c.pending.Done()
			c.drain()
		}()
	}
}

// enqueue queues a reply behind the writer that holds the socket; c.mu is held.
func (c *tcpConn) enqueue(st *State, q *query, resp []byte, fromReader bool) {
	if fromReader {
		q = q.settled() // the reader's query lives in its scratch space
	}
	c.queue = appendFrame(c.queue, resp)
	c.waiting = append(c.waiting, waiting{st: st, q: q, end: len(c.queue)})
}

// drain writes what queued while this writer held the socket, batch by
// batch, then lets go of it. Finding the queue empty and letting go happen
// under one lock: a reply queued in between would be left for the next
// writer, and lost if none came.
func (c *tcpConn) drain() {
	for {
		c.mu.Lock()
		if len(c.waiting) == 0 && !c.broken.Load() {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if c.broken.Load() {
			c.mu.Unlock()
			c.release()
			return
		}
		batch, who := c.queue, c.waiting
		c.queue, c.waiting = c.spare[:0], nil
		c.mu.Unlock()
		err := c.send(batch)
		start := 0
		for _, w := range who {
			resp := w.whole
			if resp == nil {
				resp = batch[start+2 : w.end]
			}
			c.done(w.st, w.q, resp, err)
			start = w.end
		}
		c.spare = batch
		if err != nil {
			c.release()
			return
		}
	}
}

// done records a query whose reply was written (resp) or not (nil), and
// takes it off what the connection owes.
func (c *tcpConn) done(st *State, q *query, resp []byte, err error) {
	if err != nil {
		c.srv.log.Debug("writing reply failed", "client", q.client.String(), "error", err)
		resp = nil
	}
	c.srv.record(st, q, resp)
	c.settle(-1)
}

// release gives up the socket; when the connection broke, what queued is
// dropped, each query recorded without a response.
func (c *tcpConn) release() {
	c.mu.Lock()
	c.writing = false
	var dropped []waiting
	if c.broken.Load() {
		dropped, c.waiting, c.queue = c.waiting, nil, c.queue[:0]
	}
	c.mu.Unlock()
	for _, w := range dropped {
		c.done(w.st, w.q, nil, errClosed)
	}
}

// send writes frames in one write within tcp.write_timeout; a failure
// closes the connection at once.
func (c *tcpConn) send(frames []byte) error {
	_ = c.SetWriteDeadline(time.Now().Add(c.limits.WriteTimeout))
	n, err := c.Conn.Write(frames)
	if err == nil && n < len(frames) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return c.fail(closedWriteFailed, err)
	}
	return nil
}

func appendFrame(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b)))
	return append(dst, b...)
}

// settle takes n written (or dropped) replies off what the connection
// owes; when it owes nothing while the reader waits, the idle clock starts
// now (RFC 7766 §6.2.3: a connection is idle only with nothing in flight).
func (c *tcpConn) settle(n int) {
	if c.owed.Add(int32(n)) != 0 {
		return
	}
	c.mu.Lock()
	if c.awaiting && c.owed.Load() == 0 {
		_ = c.SetReadDeadline(time.Now().Add(c.limits.IdleTimeout))
	}
	c.mu.Unlock()
}

// awaitQuery sets the read deadline for the next query: wait from now when
// nothing is in flight, none while something is (the writer of the last
// reply starts the idle clock).
func (c *tcpConn) awaitQuery(wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.awaiting = true
	if c.owed.Load() > 0 {
		_ = c.SetReadDeadline(time.Time{})
	} else {
		_ = c.SetReadDeadline(time.Now().Add(wait))
	}
}

// readingQuery ends the wait: a query (or the end) has begun to arrive.
func (c *tcpConn) readingQuery() {
	c.mu.Lock()
	c.awaiting = false
	c.mu.Unlock()
}

// fail closes the connection at once, with a reset: bytes of a partial
// reply must never be followed by another frame. Only the first failure
// is counted, under reason.
func (c *tcpConn) fail(reason string, err error) error {
	if !c.broken.CompareAndSwap(false, true) {
		return err
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Conn.Close()
	if c.srv != nil {
		c.srv.metrics.TCPClosed.WithLabelValues(reason).Inc()
		c.srv.log.Debug("closed a TCP connection", "client", c.client.String(), "reason", reason, "error", err)
	}
	return err
}

// shut ends an idle connection in order (FIN), ahead of its reader.
func (c *tcpConn) shut() {
	if c.broken.CompareAndSwap(false, true) {
		c.Conn.Close()
	}
}

// Bounds of the orderly close's drain.
const (
	drainTime  = time.Second
	drainBytes = 64 << 10
)

// closeGracefully ends a connection whose replies are all written: FIN
// first, then what the client still sends is read and discarded for a
// moment, so that closing with unread data never turns into a reset that
// makes the client discard replies it has not read yet.
func (c *tcpConn) closeGracefully() {
	if !c.broken.CompareAndSwap(false, true) {
		return // reset or shut already
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok && tc.CloseWrite() == nil {
		_ = tc.SetReadDeadline(time.Now().Add(drainTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(tc, drainBytes))
	}
	c.Conn.Close()
}
