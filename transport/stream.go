package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dns/s3dns/model"
)

// Stream is one accepted TCP (or TLS) connection and the replies it owes:
// the framing of RFC 1035 §4.2.2, the idle clock of RFC 7766 §6.2.3 and the
// write queue. One writer
// at a time holds the socket; replies ready meanwhile wait in a queue of
// at most limits.MaxQueued frames, which that writer (or one it hands the
// job to) writes next, in one write per batch. Nobody blocks behind a
// stalled write: the reader keeps reading, so a client that stops reading
// meets tcp.max_queued or tcp.write_timeout, whichever comes first. A
// reply that cannot be written whole ends the connection at once, so that
// no frame ever follows a partial one (RFC 7766 §8).
type Stream struct {
	net.Conn
	client netip.Addr
	limits model.TCP
	onFail func(reason string, err error)
	// owed counts queries read whose replies are not written yet: a
	// connection with none is idle, and may give way to a new one.
	owed   atomic.Int32
	broken atomic.Bool
	// Pending counts the flow's answers in progress and background writers
	// not yet done: the connection closes only after them.
	Pending sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	writing  bool       // a writer holds the socket
	queue    []byte     // frames waiting for it, length-prefixed, in order
	waiting  []waiting  // their queries, recorded once written or dropped
	awaiting bool       // the reader waits for the next query: the idle clock is the writers' to start

	out, spare []byte // the writer's buffers (only the one holding the socket touches them)
	try        *tryWriter
	// deadline is the write deadline set on the socket, zero for none; only
	// the writer holding the socket touches it.
	deadline time.Time
	length   [2]byte // the reader's
}

// Done is told what became of one reply: written (resp, err nil) or not.
type Done interface {
	Written(resp []byte, err error)
	// Keep is a Done that outlives the reader's buffers, for a reply the
	// reader hands over that must wait in the queue.
	Keep() Done
}

// waiting is a queued reply's Done and where its frame ends in the queue;
// whole is the reply when the queue holds only the rest of its frame.
type waiting struct {
	done  Done
	end   int
	whole []byte
}

// Reasons a stream is closed while in use (s3dns_tcp_closed_total).
const (
	ClosedWriteFailed = "write_failed" // a reply could not be written whole in time
	ClosedQueueFull   = "queue_full"   // tcp.max_queued replies waited for a client that does not read
)

// NewStream takes over c, from client, within limits; onFail is told of
// each connection it closes, and why.
func NewStream(c net.Conn, client netip.Addr, limits model.TCP, onFail func(reason string, err error)) *Stream {
	return &Stream{Conn: c, client: client, limits: limits, onFail: onFail}
}

// Limits are the connection's tcp.* settings.
func (c *Stream) Limits() model.TCP { return c.limits }

// Client is the peer's address.
func (c *Stream) Client() netip.Addr { return c.client }

// Owed is how many queries read have no reply written yet.
func (c *Stream) Owed() int32 { return c.owed.Load() }

// Broken reports whether the connection was closed (reset, shut or done).
func (c *Stream) Broken() bool { return c.broken.Load() }

// PeerNames are the names of the client's verified TLS certificate (DoT),
// nil over plain TCP or without one.
func (c *Stream) PeerNames() []string {
	if p, ok := c.Conn.(*LazyHandshake); ok {
		return p.PeerNames()
	}
	return nil
}

// Keepalive is the idle timeout in edns-tcp-keepalive's 100 ms units
// (config validation keeps it within 16 bits).
func (c *Stream) Keepalive() uint16 {
	return uint16(max(c.limits.IdleTimeout/(100*time.Millisecond), 1))
}

// errStopping: ReadQuery found the server stopping.
var errStopping = errors.New("the server is stopping")

// ReadQuery reads the next framed query into buf (grown as needed) and
// returns it. wait bounds the wait for its first byte when nothing is in
// flight (the first query's read timeout, then the idle timeout), readTimeout
// the rest of it once its length came. From the length on, the query is
// owed a reply (Deliver or Settle). stopping is asked after the deadline is
// set: Shutdown's may have been overwritten.
func (c *Stream) ReadQuery(buf []byte, wait, readTimeout time.Duration, stopping func() bool) ([]byte, error) {
	length := c.length[:] // a field: a local array read through io.Reader would be allocated per query
	c.awaitQuery(wait)
	if stopping() {
		return buf, errStopping
	}
	_, err := io.ReadFull(c, length)
	c.readingQuery()
	if err != nil {
		return buf, err
	}
	c.owed.Add(1) // from here on the connection is not idle
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	n := int(binary.BigEndian.Uint16(length))
	buf = slices.Grow(buf[:0], n)[:n]
	if _, err := io.ReadFull(c, buf); err != nil {
		c.owed.Add(-1)
		return buf, err
	}
	return buf, nil
}

var (
	errQueueFull = errors.New("too many replies wait for a client that does not read")
	errClosed    = errors.New("the connection was closed")
	errTooLong   = errors.New("reply longer than a TCP message")
)

// Deliver sends a reply with its length prefix, whole or not at all, and
// tells done its fate once known. When the socket is free it is written at
// once; the reader (fromReader: resp and done live in its buffers) writes
// only what the socket takes without waiting, and hands the rest to a
// goroutine, so that it never stops reading for a client that does not.
// When another writer holds the socket, the reply queues behind it
// (copied), at most tcp.max_queued of them.
func (c *Stream) Deliver(resp []byte, fromReader bool, done Done) {
	if len(resp) > 0xffff {
		c.done(done, nil, errTooLong)
		return
	}
	c.mu.Lock()
	switch {
	case c.broken.Load():
		c.mu.Unlock()
		c.done(done, nil, errClosed)
		return
	case c.writing && len(c.waiting) >= c.limits.MaxQueued:
		c.mu.Unlock()
		c.done(done, nil, c.fail(ClosedQueueFull, errQueueFull))
		return
	case c.writing:
		c.enqueue(resp, fromReader, done)
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.out = appendFrame(c.out[:0], resp)
	if !fromReader {
		err := c.send(c.out)
		c.done(done, resp, err)
		if err == nil {
			c.drain()
		} else {
			c.release()
		}
		return
	}
	if c.try == nil {
		c.try = newTryWriter(c.Conn) // only the reader writes this way: no race
	}
	c.readyWriteDeadline()
	n, err := c.try.write(c.out)
	if err != nil {
		c.done(done, nil, c.fail(ClosedWriteFailed, err))
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
		c.waiting = append([]waiting{{done: done.Keep(), end: shift, whole: bytes.Clone(resp)}}, c.waiting...)
		resp = nil // recorded once the rest is written
	}
	more := len(c.waiting) > 0
	if !more {
		c.writing = false
	}
	c.mu.Unlock()
	if resp != nil {
		c.done(done, resp, nil)
	}
	if more {
		c.Pending.Add(1)
		go func() {
			defer c.Pending.Done()
			c.drain()
		}()
	}
}

// enqueue queues a reply behind the writer that holds the socket; c.mu is held.
func (c *Stream) enqueue(resp []byte, fromReader bool, done Done) {
	if fromReader {
		done = done.Keep() // the reader's lives in its scratch space
	}
	c.queue = appendFrame(c.queue, resp)
	c.waiting = append(c.waiting, waiting{done: done, end: len(c.queue)})
}

// drain writes what queued while this writer held the socket, batch by
// batch, then lets go of it. Finding the queue empty and letting go happen
// under one lock: a reply queued in between would be left for the next
// writer, and lost if none came.
func (c *Stream) drain() {
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
			c.done(w.done, resp, err)
			start = w.end
		}
		c.spare = batch
		if err != nil {
			c.release()
			return
		}
	}
}

// done tells d what became of its reply, and takes it off what the
// connection owes.
func (c *Stream) done(d Done, resp []byte, err error) {
	if err != nil {
		resp = nil
	}
	d.Written(resp, err)
	c.Settle(-1)
}

// release gives up the socket; when the connection broke, what queued is
// dropped, each query recorded without a response.
func (c *Stream) release() {
	c.mu.Lock()
	c.writing = false
	var dropped []waiting
	if c.broken.Load() {
		dropped, c.waiting, c.queue = c.waiting, nil, c.queue[:0]
	}
	c.mu.Unlock()
	for _, w := range dropped {
		c.done(w.done, nil, errClosed)
	}
}

// readyWriteDeadline fits the write deadline to the reader's write: none
// for a write that never waits (a deadline left over from a background
// batch would fail it once passed, closing a connection that reads
// everything), and at least half of tcp.write_timeout ahead for a TLS
// write, which waits. Set only when it must change: the reader writes
// every cached reply.
func (c *Stream) readyWriteDeadline() {
	if c.try.waits() {
		if now := time.Now(); c.deadline.Sub(now) < c.limits.WriteTimeout/2 {
			c.deadline = now.Add(c.limits.WriteTimeout)
			_ = c.SetWriteDeadline(c.deadline)
		}
		return
	}
	if !c.deadline.IsZero() {
		c.deadline = time.Time{}
		_ = c.SetWriteDeadline(c.deadline)
	}
}

// send writes frames in one write within tcp.write_timeout; a failure
// closes the connection at once.
func (c *Stream) send(frames []byte) error {
	c.deadline = time.Now().Add(c.limits.WriteTimeout)
	_ = c.SetWriteDeadline(c.deadline)
	n, err := c.Conn.Write(frames)
	if err == nil && n < len(frames) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return c.fail(ClosedWriteFailed, err)
	}
	return nil
}

func appendFrame(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b)))
	return append(dst, b...)
}

// Settle takes n written (or dropped) replies off what the connection
// owes; when it owes nothing while the reader waits, the idle clock starts
// now (RFC 7766 §6.2.3: a connection is idle only with nothing in flight).
func (c *Stream) Settle(n int) {
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
func (c *Stream) awaitQuery(wait time.Duration) {
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
func (c *Stream) readingQuery() {
	c.mu.Lock()
	c.awaiting = false
	c.mu.Unlock()
}

// fail closes the connection at once, with a reset: bytes of a partial
// reply must never be followed by another frame. Only the first failure
// is counted, under reason.
func (c *Stream) fail(reason string, err error) error {
	if !c.broken.CompareAndSwap(false, true) {
		return err
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Conn.Close()
	if c.onFail != nil {
		c.onFail(reason, err)
	}
	return err
}

// Shut ends an idle connection in order (FIN), ahead of its reader.
func (c *Stream) Shut() {
	if c.broken.CompareAndSwap(false, true) {
		c.Conn.Close()
	}
}

// Bounds of the orderly close's drain.
const (
	drainTime  = time.Second
	drainBytes = 64 << 10
)

// CloseGracefully ends a connection whose replies are all written: FIN
// first, then what the client still sends is read and discarded for a
// moment, so that closing with unread data never turns into a reset that
// makes the client discard replies it has not read yet.
func (c *Stream) CloseGracefully() {
	if !c.broken.CompareAndSwap(false, true) {
		return // reset or shut already
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok && tc.CloseWrite() == nil {
		_ = tc.SetReadDeadline(time.Now().Add(drainTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(tc, drainBytes))
	}
	c.Conn.Close()
}
