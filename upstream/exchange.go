package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// errMismatch marks a reply whose ID or question is not the one asked.
var errMismatch = errors.New("reply does not match the query")

// udpBuffers are reused for upstream datagrams: most misses need one each.
var udpBuffers = sync.Pool{New: func() any { b := make([]byte, dns.DefaultMsgSize); return &b }}

// exchangeUDP is exchange over UDP to a resolved address, on a briefly
// reused socket (see pool.go) and with a pooled buffer: it runs for every miss.
func exchangeUDP(ctx context.Context, pool *udpPool, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	conn, err := pool.get()
	if err != nil {
		return nil, fmt.Errorf("exchanging with %s over udp: %w", pool.raddr, err)
	}
	resp, err := readReply(conn.UDPConn, deadline, q, onSpoof)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("exchanging with %s over udp: %w", pool.raddr, err)
	}
	pool.put(conn)
	return resp, nil
}

// readReply sends q on conn and waits for the reply with its ID and question.
func readReply(conn *net.UDPConn, deadline time.Time, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	_ = conn.SetDeadline(deadline)
	bp := udpBuffers.Get().(*[]byte)
	defer udpBuffers.Put(bp)
	buf := *bp
	packed, err := q.PackBuffer(buf)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(packed); err != nil {
		return nil, err
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		resp := new(dns.Msg)
		if resp.Unpack(buf[:n]) == nil && resp.Id == q.Id && sameQuestion(q, resp) {
			return resp, nil
		}
		// Garbage or a forged reply on a connected socket: keep waiting for the real one.
		if onSpoof != nil {
			onSpoof()
		}
	}
}

// exchange sends q (whose ID the caller made fresh) to addr over network
// and returns the first reply matching the ID and question. Over UDP the
// socket is connected, so the kernel drops datagrams from any other address
// or port, and each query gets a new socket: a random source port. Replies
// with the wrong ID or question are dropped, counted by onSpoof, and the
// wait goes on until ctx ends, so an off-path forger cannot end the exchange.
func exchange(ctx context.Context, network, addr string, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	co := &dns.Conn{Conn: conn, UDPSize: dns.DefaultMsgSize}
	if err := co.WriteMsg(q); err != nil {
		return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, err)
	}
	for {
		resp, err := co.ReadMsg()
		if err != nil {
			var netErr net.Error
			if network == "udp" && !errors.As(err, &netErr) {
				// Garbage on a connected socket: keep waiting for the real reply.
				if onSpoof != nil {
					onSpoof()
				}
				continue
			}
			return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, err)
		}
		if resp.Id == q.Id && sameQuestion(q, resp) {
			return resp, nil
		}
		if onSpoof != nil {
			onSpoof()
		}
		if network != "udp" {
			// A stream carries one answer per query: a wrong one ends it.
			return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, errMismatch)
		}
	}
}

func sameQuestion(q, r *dns.Msg) bool {
	if len(r.Question) != 1 || len(q.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
