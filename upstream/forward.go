// Package upstream exchanges queries with the configured resolvers: in order,
// over UDP with TCP on truncation, skipping upstreams that keep failing.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrAllFailed wraps the last error when no upstream gave a usable answer.
var ErrAllFailed = errors.New("every upstream failed")

// Forwarder sends queries to a list of upstream resolvers.
type Forwarder struct {
	upstreams []*server
	timeout   time.Duration
	now       func() time.Time
	log       *slog.Logger
	observe   func(upstream, result string, d time.Duration)
}

type server struct {
	addr   string
	health health
}

// Option changes a Forwarder.
type Option func(*Forwarder)

// WithClock sets the clock used for health back-off.
func WithClock(now func() time.Time) Option { return func(f *Forwarder) { f.now = now } }

// WithLogger sets the logger for health changes.
func WithLogger(l *slog.Logger) Option { return func(f *Forwarder) { f.log = l } }

// WithObserver is called after every attempt with the upstream, the result
// ("success", "timeout", "servfail", "refused", "error", "mismatch",
// "truncated") and how long it took; for metrics.
func WithObserver(fn func(upstream, result string, d time.Duration)) Option {
	return func(f *Forwarder) { f.observe = fn }
}

// New returns a Forwarder for host:port addresses, each attempt bounded by timeout.
func New(addrs []string, timeout time.Duration, opts ...Option) *Forwarder {
	f := &Forwarder{timeout: timeout, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, a := range addrs {
		f.upstreams = append(f.upstreams, &server{addr: a})
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Exchange sends q to the upstreams in order until one answers with
// something other than SERVFAIL or REFUSED. q is not modified: each attempt
// uses a copy with a fresh random ID. It returns the reply and the upstream
// that gave it; the whole call takes at most about timeout × upstreams.
func (f *Forwarder) Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, string, error) {
	var lastErr error
	for _, s := range f.order() {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		start := time.Now()
		resp, result, err := f.attempt(ctx, s.addr, q)
		if f.observe != nil {
			f.observe(s.addr, result, time.Since(start))
		}
		if err == nil {
			s.health.success()
			return resp, s.addr, nil
		}
		lastErr = err
		if s.health.failure(f.now()) {
			f.log.Warn("upstream marked down after repeated failures", "upstream", s.addr, "error", err)
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no upstreams configured")
	}
	return nil, "", fmt.Errorf("%w: %w", ErrAllFailed, lastErr)
}

// order lists the usable upstreams in configured order, or all of them when
// none is usable: trying a resting upstream beats failing at once.
func (f *Forwarder) order() []*server {
	now := f.now()
	usable := make([]*server, 0, len(f.upstreams))
	for _, s := range f.upstreams {
		if s.health.usable(now) {
			usable = append(usable, s)
		}
	}
	if len(usable) == 0 {
		return f.upstreams
	}
	return usable
}

// attempt asks one upstream, over UDP then TCP when the UDP reply is
// truncated, within one timeout.
func (f *Forwarder) attempt(ctx context.Context, addr string, q *dns.Msg) (*dns.Msg, string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := exchange(ctx, "udp", addr, q)
	if err == nil && resp.Truncated {
		resp, err = exchange(ctx, "tcp", addr, q)
		if err == nil && resp.Truncated {
			return nil, "truncated", fmt.Errorf("exchanging with %s over tcp: reply still truncated", addr)
		}
	}
	if err != nil {
		return nil, classify(err), err
	}
	switch resp.Rcode {
	case dns.RcodeServerFailure:
		return nil, "servfail", fmt.Errorf("%s answered SERVFAIL", addr)
	case dns.RcodeRefused:
		return nil, "refused", fmt.Errorf("%s answered REFUSED", addr)
	}
	return resp, "success", nil
}

// errMismatch marks a reply whose question is not the one asked.
var errMismatch = errors.New("reply does not match the question")

func exchange(ctx context.Context, network, addr string, q *dns.Msg) (*dns.Msg, error) {
	m := q.Copy()
	m.Id = dns.Id()
	c := &dns.Client{Net: network, UDPSize: dns.DefaultMsgSize}
	if deadline, ok := ctx.Deadline(); ok {
		c.Timeout = time.Until(deadline)
	}
	// miekg's client drops UDP replies with another ID and only accepts
	// datagrams from the dialled address (a connected socket).
	resp, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, err)
	}
	if !sameQuestion(m, resp) {
		return nil, fmt.Errorf("exchanging with %s over %s: %w", addr, network, errMismatch)
	}
	return resp, nil
}

func sameQuestion(q, r *dns.Msg) bool {
	if len(r.Question) != 1 || len(q.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

func classify(err error) string {
	var netErr interface{ Timeout() bool }
	switch {
	case errors.Is(err, errMismatch):
		return "mismatch"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	default:
		return "error"
	}
}
