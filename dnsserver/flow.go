package dnsserver

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
)

// The request flow, top to bottom. Every query, over UDP, TCP, TLS or
// HTTPS, takes these steps; the transports (package transport, and here
// udp.go, tcp.go and doh.go handing their queries in) only read packets
// and write replies.
//
//  1. admit   (admit.go)   parse the packet once (package wire); ACL, rate
//                          limit, header, EDNS, TSIG, class and type gates;
//                          RD=0 scope. The result is one query value both
//                          speeds use.
//  2. decide  (admit.go)   which endpoint, if any, answers the name (package
//                          zones), or whether it is an endpoint's own hostname.
//  3. lookup  (sources.go) the fast path: the decision's route picks the
//                          source that owns the answer — endpoint.Answers
//                          or cache.Cache — and its Fresh finds one packed.
//  4. resolve (sources.go) the full path, on a miss, on a goroutine of its
//                          own (package workers) with the query detached from
//                          the reader's buffers (admit.go): the same route's
//                          resolve builds the answer and keeps it packed
//                          for step 3.
//  5. render  (wire)       one packed answer for this client: ID, flags,
//                          question spelling, TTLs, OPT, truncation.
//  6. write, then record (record.go): count, log and tap once.
//
// Both speeds render through the same wire.Entry.Append, so they cannot
// disagree about the bytes.

// serveFast runs steps 1–3 for a packet in the reading goroutine, writing
// any reply into dst. done is false when the full path must answer
// (step 4, serveFull); resp is nil when the packet gets no reply at all.
func (s *Server) serveFast(st *State, q *query, pkt, dst []byte, sc *scratch) (resp []byte, done bool) {
	switch s.admit(st, q, pkt, sc) {
	case dropped:
		return nil, true
	case rejected:
		return s.reject(dst, q, pkt), true
	}
	if s.loop.probing.Load() {
		return nil, false // every query is checked against the probes on the full path
	}
	a, now := s.lookup(st, q)
	if a == nil {
		return nil, false
	}
	q.rcode = a.Rcode()
	q.upstream = upstreamCache
	return a.Append(dst, &q.msg, now, q.limit()), true
}

// serveFull runs steps 4–6 for an admitted query that missed, and writes
// the reply with write. A panic becomes SERVFAIL for this query alone.
func (s *Server) serveFull(st *State, q *query, write func([]byte) error) {
	s.metrics.InFlight.Inc()
	defer s.metrics.InFlight.Dec()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("recovered from panic while answering", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			q.rcode = rcodeServfail
			s.send(st, q, wire.AppendError(nil, &q.msg, rcodeServfail), write)
		}
	}()
	ans := s.resolve(st, q)
	bp := replyBuffers.Get().(*[]byte)
	var resp []byte
	if ans.Entry != nil {
		q.rcode = ans.Entry.Rcode()
		resp = ans.Entry.Append((*bp)[:0], &q.msg, ans.Now, q.limit())
	} else {
		q.rcode = ans.Rcode
		resp = wire.AppendError((*bp)[:0], &q.msg, ans.Rcode)
	}
	q.upstream = ans.Upstream
	s.send(st, q, resp, write)
	if cap(resp) <= maxPooledReply {
		*bp = resp[:0]
	}
	replyBuffers.Put(bp)
}

// replyBuffers hold full-path replies while they are written: every writer
// (UDP, TCP, dnstap) copies the bytes before it returns.
var replyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledReply keeps the rare large (TCP) reply's buffer out of the pool.
const maxPooledReply = 4096

// send writes the reply, then records the query: a reply that could not be
// written is not counted or tapped as sent.
func (s *Server) send(st *State, q *query, resp []byte, write func([]byte) error) {
	switch err := write(resp); {
	case errors.Is(err, errRecorded):
		return // the TCP writer records it once the reply is written
	case err != nil:
		s.log.Debug("writing reply failed", "client", q.client.String(), "error", err)
		resp = nil
	}
	s.record(st, q, resp)
}

// limit is the largest reply this query may get: its UDP size, or 0 (none)
// over a stream (TCP, TLS, HTTPS).
func (q *query) limit() int {
	if q.proto != metrics.UDP {
		return 0
	}
	return q.msg.MaxUDP()
}

// upstreamCache names where fast-path answers come from, in the query log.
const upstreamCache = "cache"

// elapsed is the time since the query arrived.
func (q *query) elapsed() time.Duration { return time.Since(q.start) }
