package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// DNS over TLS upstreams (RFC 7858): "tls://IP[:PORT]#NAME", the
// certificate verified for NAME against the system's roots or the ones
// given (WithRoots). One connection is kept open and carries every query
// at once (pipelining, RFC 7766 §6.2.1.1): each query has an ID no other
// in flight on it has, and replies are matched by ID in whatever order
// they come. A connection that breaks, or carries a reply nobody asked
// for, is closed; the next query dials afresh.

// maxInFlightDoT bounds the queries waiting on one connection; beyond it
// an exchange fails at once (and the next upstream is asked).
const maxInFlightDoT = 1000

var (
	errDoTBusy = errors.New("too many queries in flight on the connection")
	// errStray: a reply came under an ID no query waits for (late from a
	// broken server, or forged); each query then waiting is told so.
	errStray = fmt.Errorf("%w: a reply under an ID no query waits for", errMismatch)
)

type dotUpstream struct {
	ap   netip.AddrPort
	name string
	cfg  *tls.Config
	mu   sync.Mutex
	cur  *pipe // the connection in use; nil until dialled, or after it broke
}

func newDoT(ap netip.AddrPort, name string, roots *x509.CertPool) *dotUpstream {
	return &dotUpstream{ap: ap, name: name,
		cfg: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"dot"}}}
}

// exchange sends q on the kept connection (dialling one when there is
// none) and returns the reply if it answers q. A kept connection that
// turns out closed under the query (the server's idle timeout) is dialled
// again once: that is no failure of the upstream.
func (d *dotUpstream) exchange(ctx context.Context, q *dns.Msg, onSpoof func()) (*dns.Msg, netip.AddrPort, error) {
	for attempt := 0; ; attempt++ {
		p, fresh, err := d.pipe(ctx)
		if err != nil {
			return nil, netip.AddrPort{}, d.wrap(err)
		}
		resp, err := p.exchange(ctx, q)
		var closed *pipeClosed
		switch {
		case errors.Is(err, errMismatch):
			if onSpoof != nil {
				onSpoof()
			}
		case errors.As(err, &closed) && !fresh && attempt == 0 && ctx.Err() == nil:
			continue // the kept connection had gone: once more on a new one
		}
		return resp, p.local, d.wrap(err)
	}
}

func (d *dotUpstream) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("exchanging with tls://%s#%s: %w", d.ap, d.name, err)
}

// pipe is the connection in use, or a new one with its handshake done
// (fresh). Queries wait for one dial rather than each dialling its own.
func (d *dotUpstream) pipe(ctx context.Context) (p *pipe, fresh bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur != nil && !d.cur.broken() {
		return d.cur, false, nil
	}
	dialer := &tls.Dialer{Config: d.cfg}
	c, err := dialer.DialContext(ctx, "tcp", d.ap.String())
	if err != nil {
		return nil, false, err
	}
	d.cur = newPipe(c)
	return d.cur, true, nil
}

// close closes the kept connection.
func (d *dotUpstream) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur != nil {
		d.cur.shut(errors.New("upstream closed"))
		d.cur = nil
	}
}

// pipe is one DoT connection and the queries waiting on it, by ID.
type pipe struct {
	conn    net.Conn
	local   netip.AddrPort
	wmu     sync.Mutex // one message written at a time
	mu      sync.Mutex
	waiting map[uint16]chan []byte
	err     error         // why it broke, once done is closed
	done    chan struct{} // closed when the connection is broken
}

// pipeClosed: the connection broke under a query.
type pipeClosed struct{ err error }

func (e *pipeClosed) Error() string { return "connection closed: " + e.err.Error() }
func (e *pipeClosed) Unwrap() error { return e.err }

func newPipe(c net.Conn) *pipe {
	p := &pipe{conn: c, waiting: map[uint16]chan []byte{}, done: make(chan struct{})}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		p.local = a.AddrPort()
	}
	go p.read()
	return p
}

func (p *pipe) broken() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// shut breaks the pipe for err, once: every waiting query gets it.
func (p *pipe) shut(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken() {
		return
	}
	p.err = err
	close(p.done)
	p.conn.Close()
}

// exchange writes q, under an ID unused on this connection (q is the
// attempt's own copy: its ID may change), and waits for its reply.
func (p *pipe) exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	ch := make(chan []byte, 1)
	p.mu.Lock()
	if p.broken() {
		p.mu.Unlock()
		return nil, &pipeClosed{p.err}
	}
	if len(p.waiting) >= maxInFlightDoT {
		p.mu.Unlock()
		return nil, errDoTBusy
	}
	for _, taken := p.waiting[q.Id]; taken; _, taken = p.waiting[q.Id] {
		q.Id = dns.Id()
	}
	p.waiting[q.Id] = ch
	p.mu.Unlock()
	// A query given up on (cancelled) stays registered: its late reply
	// is expected, not a stray one; the entry goes when the reply comes or
	// the connection ends.
	if err := p.write(ctx, q); err != nil {
		return nil, err
	}
	select {
	case b := <-ch:
		return p.reply(q, b)
	case <-p.done:
		select {
		case b := <-ch: // the reply came just before the connection ended
			return p.reply(q, b)
		default:
			return nil, &pipeClosed{p.err}
		}
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// No reply within the upstream's timeout: the connection is not
			// trusted to answer the next ones either (and its abandoned
			// entries go with it).
			p.shut(ctx.Err())
		}
		return nil, ctx.Err()
	}
}

// reply is b, q's reply, unpacked, if it answers q.
func (p *pipe) reply(q *dns.Msg, b []byte) (*dns.Msg, error) {
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		return nil, err
	}
	if !answers(q, r) {
		p.shut(errMismatch) // the reply under this ID is for another question: not trusted again
		return nil, errMismatch
	}
	return r, nil
}

// write sends one framed message, bounded by ctx's deadline; a write cut
// short breaks the stream (and so the pipe).
func (p *pipe) write(ctx context.Context, q *dns.Msg) error {
	packed, err := q.Pack()
	if err != nil {
		return err
	}
	framed := make([]byte, 2+len(packed))
	framed[0], framed[1] = byte(len(packed)>>8), byte(len(packed))
	copy(framed[2:], packed)
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if deadline, ok := ctx.Deadline(); ok {
		_ = p.conn.SetWriteDeadline(deadline)
	}
	if _, err := p.conn.Write(framed); err != nil {
		p.shut(err)
		return &pipeClosed{err}
	}
	return nil
}

// read hands each reply to the query waiting for its ID, until the
// connection ends. A reply under an ID nobody waits for is a stray one
// (or forged): the connection is not trusted again.
func (p *pipe) read() {
	co := &dns.Conn{Conn: p.conn}
	for {
		b, err := co.ReadMsgHeader(nil)
		if err != nil {
			p.shut(err)
			return
		}
		id := uint16(b[0])<<8 | uint16(b[1]) // ReadMsgHeader gives at least a header
		p.mu.Lock()
		ch, ok := p.waiting[id]
		delete(p.waiting, id)
		p.mu.Unlock()
		if !ok {
			p.shut(errStray)
			return
		}
		ch <- b // a buffer of its own (ReadMsgHeader makes one per message)
	}
}
