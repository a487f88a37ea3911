package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// acceptBackoff is the pause after a failed accept that is not the
// listener closing.
const acceptBackoff = 10 * time.Millisecond

// handshaken is the DoH listeners' TLS: each connection's handshake runs
// on a goroutine of its own, within the read timeout, and only connections
// whose handshake succeeded are handed to the HTTP server — as *tls.Conn,
// so that it serves HTTP/2 to those that chose h2. Failed handshakes are
// counted and logged like DoT's, not printed by net/http.
type handshaken struct {
	net.Listener
	cfg   *tls.Config
	h     Handshakes
	ready chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error // why it stopped, once done is closed
}

// stop ends Accept with err, once.
func (h *handshaken) stop(err error) {
	h.once.Do(func() {
		h.err = err
		close(h.done)
	})
}

// DoHListener hands net/http the connections of ln whose handshake
// succeeded, each a *tls.Conn.
func DoHListener(ln net.Listener, cfg *tls.Config, h Handshakes) net.Listener {
	return newHandshaken(ln, cfg, h)
}

func newHandshaken(ln net.Listener, cfg *tls.Config, hs Handshakes) *handshaken {
	h := &handshaken{Listener: ln, cfg: cfg, h: hs, ready: make(chan net.Conn), done: make(chan struct{})}
	go h.acceptLoop()
	return h
}

// acceptLoop accepts raw connections and starts each one's handshake.
func (h *handshaken) acceptLoop() {
	for {
		c, err := h.Listener.Accept()
		switch {
		case errors.Is(err, net.ErrClosed):
			h.stop(err)
			return
		case err != nil:
			// Out of file descriptors, say: back off and go on, as the TCP
			// listeners do; the DoH listener must not die of it.
			time.Sleep(acceptBackoff)
			continue
		}
		go h.handshake(c)
	}
}

func (h *handshaken) handshake(c net.Conn) {
	tc := tls.Server(withQuickAck(c), h.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), h.h.Timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		h.h.Failed(c.RemoteAddr(), err)
		tc.Close()
		return
	}
	h.h.OK()
	select {
	case h.ready <- tc:
	case <-h.done:
		tc.Close()
	}
}

// Accept returns the next connection whose handshake is done.
func (h *handshaken) Accept() (net.Conn, error) {
	select {
	case c := <-h.ready:
		return c, nil
	case <-h.done:
		return nil, h.err
	}
}

// Close stops accepting; connections still in their handshake are closed
// when it ends.
func (h *handshaken) Close() error {
	err := h.Listener.Close()
	h.stop(net.ErrClosed)
	return err
}
