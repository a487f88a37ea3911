package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// DNS over TLS upstreams (RFC 7858): "tls://IP[:PORT]#NAME", the
// certificate verified for NAME against the system's roots or the ones
// given (WithRoots). Connections are kept open and reused: an idle one is
// taken for each exchange and given back after it; one that fails is
// closed, and the next exchange dials afresh.

// maxIdleDoT bounds the idle connections kept per DoT upstream.
const maxIdleDoT = 8

type dotUpstream struct {
	ap   netip.AddrPort
	name string
	cfg  *tls.Config
	idle chan *dns.Conn
}

func newDoT(ap netip.AddrPort, name string, roots *x509.CertPool) *dotUpstream {
	return &dotUpstream{ap: ap, name: name, idle: make(chan *dns.Conn, maxIdleDoT),
		cfg: &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"dot"}}}
}

// exchange sends q over a kept connection (or a new one) and returns the
// reply if it answers q.
func (d *dotUpstream) exchange(ctx context.Context, q *dns.Msg, onSpoof func()) (*dns.Msg, netip.AddrPort, error) {
	co, err := d.conn(ctx)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("exchanging with tls://%s#%s: %w", d.ap, d.name, err)
	}
	local := co.LocalAddr().(*net.TCPAddr).AddrPort()
	stop := context.AfterFunc(ctx, func() { co.Close() })
	if deadline, ok := ctx.Deadline(); ok {
		_ = co.SetDeadline(deadline)
	}
	err = co.WriteMsg(q)
	var resp *dns.Msg
	if err == nil {
		resp, err = co.ReadMsg()
	}
	if !stop() || err != nil {
		co.Close() // failed or cut short: never used again
		if err == nil {
			err = ctx.Err()
		}
		return nil, local, fmt.Errorf("exchanging with tls://%s#%s: %w", d.ap, d.name, err)
	}
	if !answers(q, resp) {
		co.Close() // a stream with a stray reply in it is not trusted again
		if onSpoof != nil {
			onSpoof()
		}
		return nil, local, fmt.Errorf("exchanging with tls://%s#%s: %w", d.ap, d.name, errMismatch)
	}
	select {
	case d.idle <- co:
	default:
		co.Close()
	}
	return resp, local, nil
}

// conn is an idle connection, or a new one with its handshake done.
func (d *dotUpstream) conn(ctx context.Context) (*dns.Conn, error) {
	select {
	case co := <-d.idle:
		return co, nil
	default:
	}
	dialer := &tls.Dialer{Config: d.cfg}
	c, err := dialer.DialContext(ctx, "tcp", d.ap.String())
	if err != nil {
		return nil, err
	}
	return &dns.Conn{Conn: c}, nil
}

// close drops the idle connections.
func (d *dotUpstream) close() {
	for {
		select {
		case co := <-d.idle:
			co.Close()
		default:
			return
		}
	}
}
