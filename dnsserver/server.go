// Package dnsserver owns the UDP and TCP listeners and the one ServeDNS that
// answers every query.
package dnsserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3dns/s3dns/metrics"
)

// TCP defaults: a slow or idle client must not hold a connection for long.
const (
	DefaultTCPReadTimeout = 5 * time.Second
	DefaultTCPIdleTimeout = 10 * time.Second
	DefaultMaxTCPConns    = 1000
	// DefaultMaxFullPath bounds UDP queries on the full path at once
	// (misses waiting for upstreams); beyond it they get SERVFAIL at once.
	DefaultMaxFullPath = 10_000
)

// Server serves DNS on every listen address.
type Server struct {
	log     *slog.Logger
	metrics *metrics.Metrics
	opts    Options
	state   atomic.Pointer[State]
	loop    loopDetector
	mu      sync.Mutex
	servers []*dns.Server
	udp     []*net.UDPConn // sockets served by serveUDP
	addrs   []string
	done    sync.WaitGroup // listener goroutines
	slow    sync.WaitGroup // full-path UDP queries in flight
	// slowActive counts them, for the MaxFullPath cap.
	slowActive atomic.Int64

	stopping atomic.Bool
}

// Options are the server's collaborators; nil fields get quiet defaults.
type Options struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// TCP limits; zero values take the defaults above.
	TCPReadTimeout time.Duration
	TCPIdleTimeout time.Duration
	MaxTCPConns    int
	MaxFullPath    int
}

// New returns a server that answers from st.
func New(st *State, opts Options) *Server {
	s := &Server{log: opts.Log, metrics: opts.Metrics, opts: opts}
	if s.opts.TCPReadTimeout == 0 {
		s.opts.TCPReadTimeout = DefaultTCPReadTimeout
	}
	if s.opts.TCPIdleTimeout == 0 {
		s.opts.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if s.opts.MaxTCPConns == 0 {
		s.opts.MaxTCPConns = DefaultMaxTCPConns
	}
	if s.opts.MaxFullPath == 0 {
		s.opts.MaxFullPath = DefaultMaxFullPath
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New(prometheus.NewRegistry(), "test", func() float64 { return 0 })
	}
	s.state.Store(st)
	return s
}

// Swap replaces the state new queries are answered from.
func (s *Server) Swap(st *State) { s.state.Store(st) }

// State is the state new queries are answered from.
func (s *Server) State() *State { return s.state.Load() }

// Start binds UDP and TCP on every address and serves them in the
// background. It binds everything or nothing.
//
// UDP is served by serveUDP (one socket per CPU, the fast path first),
// TCP by miekg/dns's server with the same handler.
func (s *Server) Start(listen []string) error {
	type bound struct {
		pcs      []net.PacketConn
		ln       net.Listener
		wildcard bool
	}
	var all []bound
	for _, addr := range listen {
		pcs, ln, err := listenPair(addr, runtime.GOMAXPROCS(0))
		if err != nil {
			for _, b := range all {
				closeAll(b.pcs, b.ln)
			}
			return err
		}
		all = append(all, bound{pcs, ln, isWildcard(addr)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range all {
		s.addrs = append(s.addrs, b.pcs[0].LocalAddr().String())
		for _, pc := range b.pcs {
			conn := pc.(*net.UDPConn)
			// Room for bursts while the reader is busy (capped by net.core.rmem_max).
			_ = conn.SetReadBuffer(4 << 20)
			withOOB := b.wildcard
			if withOOB {
				if err := enablePktinfo(conn); err != nil {
					s.log.Warn("cannot learn query destination addresses: replies on a multi-homed host may leave from the wrong address",
						"listen", conn.LocalAddr().String(), "error", err)
					withOOB = false
				}
			}
			s.udp = append(s.udp, conn)
			s.done.Add(1)
			go func() {
				defer s.done.Done()
				s.serveUDP(conn, withOOB)
			}()
		}
		ln := &limitListener{Listener: b.ln, max: int64(s.opts.MaxTCPConns),
			onDrop: func() { s.log.Debug("TCP connection limit reached: connection closed") }}
		s.serve(&dns.Server{Listener: ln, Handler: s, MsgAcceptFunc: s.acceptQuery,
			MaxTCPQueries: -1, // pipelining clients keep their connection (miekg's default closes after 128)
			ReadTimeout:   s.opts.TCPReadTimeout, WriteTimeout: s.opts.TCPReadTimeout,
			IdleTimeout: func() time.Duration { return s.opts.TCPIdleTimeout }})
	}
	return nil
}

func isWildcard(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return host == "" || err == nil && ip.IsUnspecified()
}

func closeAll(pcs []net.PacketConn, ln net.Listener) {
	for _, pc := range pcs {
		pc.Close()
	}
	ln.Close()
}

// serve runs srv in the background and returns once it is accepting.
func (s *Server) serve(srv *dns.Server) {
	started := make(chan struct{})
	failed := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	s.servers = append(s.servers, srv)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		if err := srv.ActivateAndServe(); err != nil {
			s.log.Error("listener stopped", "error", err)
			close(failed)
		}
	}()
	select {
	case <-started:
	case <-failed:
	}
}

// Addrs are the bound addresses (host:port, UDP and TCP share the port).
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// Shutdown stops the listeners and waits, within ctx, for queries in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers, udp := s.servers, s.udp
	s.servers, s.udp = nil, nil
	s.mu.Unlock()
	s.stopping.Store(true)
	// Stop reading, but keep the sockets open until the answers in flight are written.
	for _, c := range udp {
		_ = c.SetReadDeadline(time.Unix(1, 0))
	}
	var errs []error
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	finished := make(chan struct{})
	go func() { s.done.Wait(); s.slow.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	for _, c := range udp {
		c.Close()
	}
	return errors.Join(errs...)
}
