package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// errMismatch marks a reply that is not the answer to the query asked.
var errMismatch = errors.New("reply does not match the query")

// udpBuffers are reused for upstream datagrams: most misses need one each.
var udpBuffers = sync.Pool{New: func() any { b := make([]byte, dns.DefaultMsgSize); return &b }}

// exchangeUDP is exchange over UDP to an upstream, from a port of its own (see
// socket.go) and with a pooled buffer, waiting until deadline at most: it
// runs for every miss. local is the socket's address when wantLocal.
func exchangeUDP(ctx context.Context, socks *sockets, to remote, q *dns.Msg, deadline time.Time, wantLocal bool,
	onSpoof func()) (resp *dns.Msg, local netip.AddrPort, err error) {
	conn, err := socks.connect(to)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("exchanging with %s over udp: %w", to.ap, err)
	}
	if wantLocal {
		local = localAddr(conn)
	}
	_ = conn.SetReadDeadline(deadline)
	// Cancelling ctx (a server shutting down) ends the wait at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	bp := udpBuffers.Get().(*[]byte)
	resp, err = roundTrip(conn, *bp, q, onSpoof)
	udpBuffers.Put(bp)
	// Never reuse a socket whose exchange failed, or whose deadline the
	// watcher may set.
	socks.release(conn, !stop() || err != nil)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return nil, local, fmt.Errorf("exchanging with %s over udp: %w", to.ap, err)
	}
	return resp, local, nil
}

// reply is the datagram in buf unpacked, if it answers q.
func reply(buf []byte, q *dns.Msg) (*dns.Msg, bool) {
	resp := new(dns.Msg)
	if resp.Unpack(buf) != nil || !answers(q, resp) {
		return nil, false
	}
	return resp, true
}

// exchangeTCP sends q to addr over TCP (after a truncated UDP reply) and
// returns the reply if it carries q's ID and question: a stream carries one
// answer per query, so a wrong one ends the exchange.
func exchangeTCP(ctx context.Context, addr string, q *dns.Msg, onSpoof func()) (*dns.Msg, netip.AddrPort, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("exchanging with %s over tcp: %w", addr, err)
	}
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	co := &dns.Conn{Conn: conn}
	if err := co.WriteMsg(q); err != nil {
		return nil, local, fmt.Errorf("exchanging with %s over tcp: %w", addr, err)
	}
	resp, err := co.ReadMsg()
	if err != nil {
		return nil, local, fmt.Errorf("exchanging with %s over tcp: %w", addr, err)
	}
	if !answers(q, resp) {
		if onSpoof != nil {
			onSpoof()
		}
		return nil, local, fmt.Errorf("exchanging with %s over tcp: %w", addr, errMismatch)
	}
	return resp, local, nil
}

// answers reports whether r is a reply to q: a response (QR), opcode QUERY,
// q's ID and q's question. Anything else is a mismatch, dropped and counted.
func answers(q, r *dns.Msg) bool {
	return r.Response && r.Opcode == dns.OpcodeQuery && r.Id == q.Id && sameQuestion(q, r)
}

func sameQuestion(q, r *dns.Msg) bool {
	if len(r.Question) != 1 || len(q.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
