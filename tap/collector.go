package tap

import (
	"fmt"
	"net"
	"os"
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

// sink is where frames go: a collector's socket or a file.
type sink interface {
	write(frame []byte) error // not nil: not written, try again later
	flush()
	close()
}

// run sends the buffered messages to s with Frame Streams
// (golang-framestream, content type protobuf:dnstap.Dnstap), one goroutine
// between the buffer and the output, flushing whenever the buffer is empty,
// retrying with back-off while the output refuses, and logging each change
// between connected and reconnecting. golang-dnstap's own outputs are not
// used: its socket output (v0.4.0) never reconnects after a failed write and
// panics after a failed handshake, and its outputs add a goroutine hand-off
// per message.
func (t *Tap) run(s sink, retry time.Duration) {
	defer close(t.done)
	defer s.close()
	wait := retry
	up := false
	for b := range t.buf {
		for {
			err := s.write(b)
			if err == nil {
				break
			}
			if up || wait == retry {
				t.log.Warn("dnstap output reconnecting", "output", t.output, "error", err, "retry_in", wait)
			}
			up = false
			select {
			case <-time.After(wait):
			case <-t.stop:
				return // closing, and the collector is away: the rest is lost
			}
			wait = min(2*wait, maxRetry)
		}
		if !up {
			t.log.Info("dnstap output connected", "output", t.output)
			up = true
		}
		wait = retry
		if len(t.buf) == 0 {
			s.flush()
		}
	}
}

// fileSink appends frames to a file (unidirectional Frame Streams).
type fileSink struct {
	f *os.File
	w *framestream.Writer
}

func newFileSink(name string) (*fileSink, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, err
	}
	w, err := framestream.NewWriter(f, &framestream.WriterOptions{ContentTypes: [][]byte{dnstap.FSContentType}})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileSink{f: f, w: w}, nil
}

func (s *fileSink) write(frame []byte) error {
	_, err := s.w.WriteFrame(frame)
	return err
}

func (s *fileSink) flush() { _ = s.w.Flush() }

func (s *fileSink) close() {
	_ = s.w.Close()
	s.f.Close()
}

// collectorConn is one connection to a collector, opened when needed.
type collectorConn struct {
	network, address string
	conn             net.Conn
	w                *framestream.Writer
}

// write sends one frame, connecting first if needed; an error means the
// collector is away (the connection is dropped, to be opened again).
func (c *collectorConn) write(frame []byte) error {
	if c.w == nil {
		if err := c.open(); err != nil {
			return err
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.w.WriteFrame(frame); err != nil {
		c.close()
		return err
	}
	return nil
}

func (c *collectorConn) open() error {
	conn, err := net.DialTimeout(c.network, c.address, ioTimeout)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{dnstap.FSContentType}, Bidirectional: true, Timeout: ioTimeout})
	if err != nil {
		conn.Close()
		return fmt.Errorf("frame streams handshake with %s: %w", c.address, err)
	}
	c.conn, c.w = conn, w
	return nil
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
