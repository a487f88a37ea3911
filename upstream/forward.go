// Package upstream exchanges queries with the configured resolvers: in order,
// over UDP with TCP on truncation, skipping upstreams that keep failing.
package upstream

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/slots"
)

const resultServfail = "servfail"

// ErrAllFailed wraps the last error when no upstream gave a usable answer.
var ErrAllFailed = errors.New("every upstream failed")

// ErrOverloaded is returned at once when too many upstream queries are in
// flight: a queue that grows would only turn overload into timeouts. It
// says nothing about the name asked (Local), so a cache does not remember
// it as the name's failure.
var ErrOverloaded error = localError("too many upstream queries in flight")

// localError is a failure of s3dns itself, not of the name or upstream.
type localError string

func (e localError) Error() string { return string(e) }

// Local marks the failure as s3dns's own (see cache's failures).
func (localError) Local() bool { return true }

// DefaultMaxInFlight caps concurrent upstream exchanges.
const DefaultMaxInFlight = 1000

// Forwarder sends queries to a list of upstream resolvers.
type Forwarder struct {
	upstreams []*server
	timeout   time.Duration
	now       func() time.Time
	log       *slog.Logger
	observe   func(upstream, result string, d time.Duration)
	tap       TapFunc
	tapWants  func() bool
	inFlight  slots.Slots
	maxFlight int
	sockets   *sockets       // idle UDP sockets, holding no port
	roots     *x509.CertPool // for DoT upstreams; nil: the system's
}

type server struct {
	addr    string
	ap      netip.AddrPort // addr parsed; invalid if addr is not IP:port (config validation prevents it)
	remote  remote
	dot     *dotUpstream // a DNS over TLS upstream ("tls://IP#NAME"); nil for plain ones
	backoff backoff
}

// Option changes a Forwarder.
type Option func(*Forwarder)

// WithClock sets the clock used for back-off.
func WithClock(now func() time.Time) Option { return func(f *Forwarder) { f.now = now } }

// WithLogger sets the logger for back-off changes (an upstream marked down).
func WithLogger(l *slog.Logger) Option { return func(f *Forwarder) { f.log = l } }

// WithObserver is called after every attempt with the upstream, the result
// ("success", "timeout", "servfail", "refused", "error", "mismatch",
// "truncated") and how long it took; for metrics.
func WithObserver(fn func(upstream, result string, d time.Duration)) Option {
	return func(f *Forwarder) { f.observe = fn }
}

// TapFunc is told about every exchange with an upstream (dnstap
// FORWARDER_QUERY/RESPONSE): the query and the reply (nil when none came),
// which it packs only if it keeps them.
type TapFunc func(tcp bool, local, upstream netip.AddrPort, query, reply *dns.Msg, asked, answered time.Time)

// WithTap sets the TapFunc; wants says whether it keeps forwarder messages
// now (nil: always), so that nothing is gathered for it otherwise.
func WithTap(fn TapFunc, wants func() bool) Option {
	return func(f *Forwarder) { f.tap, f.tapWants = fn, wants }
}

// tapping reports whether exchanges are to be passed to the tap.
func (f *Forwarder) tapping() bool { return f.tap != nil && (f.tapWants == nil || f.tapWants()) }

// tapExchange passes one exchange to the tap, if there is one.
func (f *Forwarder) tapExchange(tapping, tcp bool, local netip.AddrPort, s *server, q, resp *dns.Msg, asked time.Time) {
	if !tapping {
		return
	}
	f.tap(tcp, local, s.ap, q, resp, asked, time.Now())
}

// WithRoots sets the roots DoT upstreams' certificates are verified
// against (tls.upstream_ca_file); without it, the system's.
func WithRoots(roots *x509.CertPool) Option { return func(f *Forwarder) { f.roots = roots } }

// WithMaxInFlight caps concurrent exchanges (DefaultMaxInFlight by default).
func WithMaxInFlight(n int) Option { return func(f *Forwarder) { f.maxFlight = n } }

// New returns a Forwarder for host:port addresses, each attempt bounded by timeout.
func New(addrs []string, timeout time.Duration, opts ...Option) *Forwarder {
	f := &Forwarder{timeout: timeout, now: time.Now, log: slog.New(slog.DiscardHandler), maxFlight: DefaultMaxInFlight}
	for _, o := range opts {
		o(f)
	}
	f.inFlight = slots.New(f.maxFlight)
	f.sockets = newSockets(f.maxFlight)
	for _, a := range addrs {
		s := &server{addr: a}
		if ap, name, ok := model.ParseDoT(a); ok {
			s.ap, s.dot = ap, newDoT(ap, name, f.roots)
		} else if ap, err := netip.ParseAddrPort(a); err == nil {
			s.ap, s.remote = ap, newRemote(ap)
		}
		f.upstreams = append(f.upstreams, s)
	}
	return f
}

// Exchange sends q to the upstreams in order until one answers with
// something other than SERVFAIL or REFUSED. q is not modified: each attempt
// uses a copy with a fresh random ID. It returns the reply and the upstream
// that gave it; the whole call takes at most about timeout × upstreams.
func (f *Forwarder) Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, string, error) {
	if !f.inFlight.TryTake() {
		return nil, "", ErrOverloaded
	}
	defer f.inFlight.Release()
	var lastErr error
	for _, s := range f.order() {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		start := time.Now()
		resp, result, err := f.attempt(ctx, s, q)
		if f.observe != nil {
			f.observe(s.addr, result, time.Since(start))
		}
		if err == nil {
			s.backoff.success()
			return resp, s.addr, nil
		}
		lastErr = err
		// A SERVFAIL speaks of one name (a broken domain, a DNSSEC failure),
		// not of the upstream: the query moves on, the upstream is not rested.
		if result != resultServfail && s.backoff.failure(f.now()) {
			f.log.Warn("upstream marked down after repeated failures", "upstream", s.addr, "error", err)
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no upstreams configured")
	}
	return nil, "", fmt.Errorf("%w: %w", ErrAllFailed, lastErr)
}

// Close releases the idle upstream sockets; call it when the Forwarder is
// replaced (a reload with other upstreams) or no longer used. Queries still
// in flight finish.
func (f *Forwarder) Close() {
	f.sockets.close()
	for _, s := range f.upstreams {
		if s.dot != nil {
			s.dot.close()
		}
	}
}

// order lists the usable upstreams in configured order, or all of them when
// none is usable: trying a resting upstream beats failing at once.
func (f *Forwarder) order() []*server {
	now := f.now()
	var usable []*server // allocated only when some upstream rests
	for i, s := range f.upstreams {
		switch ok := s.backoff.usable(now); {
		case !ok && usable == nil:
			usable = append(make([]*server, 0, len(f.upstreams)), f.upstreams[:i]...)
		case ok && usable != nil:
			usable = append(usable, s)
		}
	}
	if usable == nil {
		return f.upstreams // every one usable
	}
	if len(usable) == 0 {
		return f.upstreams
	}
	return usable
}

// attempt asks one upstream, over UDP then TCP when the UDP reply is
// truncated, within one timeout.
func (f *Forwarder) attempt(ctx context.Context, s *server, q *dns.Msg) (*dns.Msg, string, error) {
	addr := s.addr
	// A deadline, not a context with a timer of its own: the UDP socket's
	// read deadline is the only timer most attempts need.
	deadline := time.Now().Add(f.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// A shallow copy: only the ID differs, and packing leaves the sections alone.
	copied := *q
	m := &copied
	m.Id = dns.Id()
	onSpoof := func() {
		if f.observe != nil {
			f.observe(addr, "mismatch", 0)
		}
	}
	if !s.ap.IsValid() {
		return nil, "error", fmt.Errorf("upstream %q is not IP:port", addr)
	}
	tapping := f.tapping()
	asked := time.Now()
	if s.dot != nil {
		dotCtx, cancel := context.WithDeadline(ctx, deadline)
		resp, local, err := s.dot.exchange(dotCtx, m, onSpoof)
		cancel()
		f.tapExchange(tapping, true, local, s, m, resp, asked)
		return judge(addr, resp, err)
	}
	resp, local, err := exchangeUDP(ctx, f.sockets, s.remote, m, deadline, tapping, onSpoof)
	f.tapExchange(tapping, false, local, s, m, resp, asked)
	if err == nil && resp.Truncated {
		m.Id = dns.Id()
		asked = time.Now()
		tcpCtx, cancel := context.WithDeadline(ctx, deadline)
		resp, local, err = exchangeTCP(tcpCtx, addr, m, onSpoof)
		cancel()
		f.tapExchange(tapping, true, local, s, m, resp, asked)
		if err == nil && resp.Truncated {
			return nil, "truncated", fmt.Errorf("exchanging with %s over tcp: reply still truncated", addr)
		}
	}
	return judge(addr, resp, err)
}

// judge turns an exchange's outcome into a result: a reply, or why not.
func judge(addr string, resp *dns.Msg, err error) (*dns.Msg, string, error) {
	if err != nil {
		return nil, classify(err), err
	}
	switch resp.Rcode {
	case dns.RcodeServerFailure:
		return nil, resultServfail, fmt.Errorf("%s answered SERVFAIL", addr)
	case dns.RcodeRefused:
		return nil, "refused", fmt.Errorf("%s answered REFUSED", addr)
	}
	return resp, "success", nil
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
