package dnsserver

import (
	"net"
	"sync"
	"sync/atomic"
)

// limitListener closes connections beyond max at once instead of letting
// them queue: a flood of idle clients cannot take every file descriptor.
type limitListener struct {
	net.Listener
	max    int64
	active atomic.Int64
	onDrop func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			c.Close()
			if l.onDrop != nil {
				l.onDrop()
			}
			continue
		}
		return &countedConn{Conn: c, release: func() { l.active.Add(-1) }}, nil
	}
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
