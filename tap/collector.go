package tap

import (
	"net"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
)

// ioTimeout bounds each handshake, write and flush to a collector: one that
// stops reading costs that long, then a reconnection, and never an answer
// (the bounded buffer in front of it drops instead).
const ioTimeout = time.Second

// maxRetry caps the back-off between reconnections.
const maxRetry = 30 * time.Second

// runCollector sends the buffered messages to a collector over a Unix or
// TCP socket with Frame Streams (golang-framestream, bidirectional, content
// type protobuf:dnstap.Dnstap), reconnecting with back-off whenever it goes
// away. golang-dnstap's own socket output is not used: v0.4.0 never
// reconnects after a failed write, and panics after a failed handshake.
func (t *Tap) runCollector(network, address string, retry time.Duration) {
	defer close(t.done)
	c := &collectorConn{network: network, address: address}
	defer c.close()
	wait := retry
	for b := range t.buf {
		for !c.write(b) {
			select {
			case <-time.After(wait):
			case <-t.stop:
				return // closing, and the collector is away: the rest is lost
			}
			wait = min(2*wait, maxRetry)
		}
		wait = retry
		if len(t.buf) == 0 {
			c.flush()
		}
	}
}

// collectorConn is one connection to a collector, opened when needed.
type collectorConn struct {
	network, address string
	conn             net.Conn
	w                *framestream.Writer
}

// write sends one frame, connecting first if needed; false means the
// collector is away (the connection is dropped, to be opened again).
func (c *collectorConn) write(frame []byte) bool {
	if c.w == nil && !c.open() {
		return false
	}
	_ = c.conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.w.WriteFrame(frame); err != nil {
		c.close()
		return false
	}
	return true
}

func (c *collectorConn) open() bool {
	conn, err := net.DialTimeout(c.network, c.address, ioTimeout)
	if err != nil {
		return false
	}
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{dnstap.FSContentType}, Bidirectional: true, Timeout: ioTimeout})
	if err != nil {
		conn.Close()
		return false
	}
	c.conn, c.w = conn, w
	return true
}

func (c *collectorConn) flush() {
	if c.w == nil {
		return
	}
	_ = c.conn.SetDeadline(time.Now().Add(ioTimeout))
	if err := c.w.Flush(); err != nil {
		c.close()
	}
}

func (c *collectorConn) close() {
	if c.w != nil {
		_ = c.conn.SetDeadline(time.Now().Add(ioTimeout))
		_ = c.w.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.w = nil, nil
}
