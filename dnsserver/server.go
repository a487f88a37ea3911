// Package dnsserver is the request flow (flow.go) that answers every
// query, whatever transport (package transport) brought it, and the
// server that starts the listeners and swaps configurations.
package dnsserver

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/slots"
	"github.com/s3dns/s3dns/tap"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/workers"
)

// TCP defaults: a slow client must not hold a connection for long. The idle
// and write timeouts and the reply queue are configuration (tcp.*).
const (
	DefaultTCPReadTimeout = 5 * time.Second
	DefaultMaxTCPConns    = 1000
	// DefaultMaxFullPath bounds queries on the full path at once (misses
	// waiting for upstreams); beyond it UDP queries get SERVFAIL at once and
	// TCP connections stop reading until one finishes.
	DefaultMaxFullPath = 10_000
	// maxPipelined bounds the queries one TCP connection has in flight
	// (RFC 7766 §6.2.1.1); then the connection is not read until one finishes.
	maxPipelined = 32
	// maxIdleWorkers bounds the full-path goroutines kept waiting for work.
	maxIdleWorkers = 256
)

// Server serves DNS on every listen address.
type Server struct {
	log     *slog.Logger
	metrics *metrics.Metrics
	opts    Options
	state   atomic.Pointer[State]
	loop    loopDetector
	// ctx is every full-path query's parent: Shutdown cancels it once its
	// grace is over, so that no upstream wait outlives the server.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	udp   []*net.UDPConn
	tcp   []net.Listener
	https []*http.Server // DNS over HTTPS
	addrs []string
	conns tcpConns
	done  sync.WaitGroup // listener and connection goroutines
	full  sync.WaitGroup // full-path queries in flight (DoH over HTTP/1.1: its handlers, which net/http waits for)
	// fullSlots caps them (MaxFullPath).
	fullSlots slots.Slots
	workers   *workers.Pool

	stopping atomic.Bool
}

// Options are the server's collaborators; nil fields get quiet defaults.
type Options struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// TCP limits; zero values take the defaults above. TCPReadTimeout
	// bounds the wait for a connection's first query and for the rest of
	// a message once its length arrived.
	TCPReadTimeout time.Duration
	MaxTCPConns    int
	MaxFullPath    int
	// Tap sends dnstap messages of what clients ask and get; nil: none.
	Tap *tap.Switch
}

// New returns a server that answers from st.
func New(st *State, opts Options) *Server {
	s := &Server{log: opts.Log, metrics: opts.Metrics, opts: opts}
	s.opts.TCPReadTimeout = cmp.Or(s.opts.TCPReadTimeout, DefaultTCPReadTimeout)
	s.opts.MaxTCPConns = cmp.Or(s.opts.MaxTCPConns, DefaultMaxTCPConns)
	s.opts.MaxFullPath = cmp.Or(s.opts.MaxFullPath, DefaultMaxFullPath)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New(prometheus.NewRegistry(), "test", func() float64 { return 0 })
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.workers = workers.New(s.ctx, maxIdleWorkers)
	s.fullSlots = slots.New(s.opts.MaxFullPath)
	s.conns.perClient = map[netip.Addr][]held{}
	s.conns.open = map[held]struct{}{}
	s.state.Store(st)
	return s
}

// Swap replaces the state new queries are answered from.
func (s *Server) Swap(st *State) { s.state.Store(st) }

// State is the state new queries are answered from.
func (s *Server) State() *State { return s.state.Load() }

// Start binds UDP and TCP on every address and serves them in the
// background. It binds everything or nothing.
func (s *Server) Start(listen []string) error {
	var all []transport.Bound
	for _, addr := range listen {
		b, err := transport.Listen(addr, runtime.GOMAXPROCS(0))
		if err != nil {
			for _, b := range all {
				b.Close()
			}
			return err
		}
		all = append(all, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := transport.Options{Log: s.log, Stopping: s.stopping.Load}
	for _, b := range all {
		s.addrs = append(s.addrs, b.UDP[0].LocalAddr().String())
		group := transport.NewGroup(b.UDP, s.log)
		for i, conn := range b.UDP {
			withOOB, err := transport.PrepareUDP(conn, b.Wildcard)
			if err != nil {
				s.log.Warn("cannot learn query destination addresses: replies on a multi-homed host may leave from the wrong address",
					"listen", conn.LocalAddr().String(), "error", err)
			}
			s.udp = append(s.udp, conn)
			s.done.Add(1)
			go func() {
				defer s.done.Done()
				transport.ServeUDP(conn, withOOB, group, i, s.newUDPReader(), opts)
			}()
		}
		s.tcp = append(s.tcp, b.TCP)
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			s.serveTCP(b.TCP, metrics.TCP)
		}()
	}
	return nil
}

// Addrs are the bound addresses (host:port, UDP and TCP share the port).
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// goFull runs a full-path query on a goroutine of its own (see workers),
// or reports false when MaxFullPath are already running.
func (s *Server) goFull(fn func()) bool {
	if !s.fullSlots.TryTake() {
		return false
	}
	s.full.Add(1)
	s.workers.Run(func() {
		defer func() { s.fullSlots.Release(); s.full.Done() }()
		fn()
	})
	return true
}

// Shutdown stops the listeners and waits, within ctx, for queries in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	s.mu.Lock()
	udp, tcp, https := s.udp, s.tcp, s.https
	s.udp, s.tcp, s.https = nil, nil, nil
	s.mu.Unlock()
	// Stop reading, but keep the sockets open until the answers in flight are written.
	for _, c := range udp {
		_ = c.SetReadDeadline(time.Unix(1, 0))
	}
	for _, ln := range tcp {
		ln.Close()
	}
	s.conns.stopReading() // DoH connections over HTTP/2 too
	httpsDone := make(chan error, 1)
	go func() { httpsDone <- s.shutdownHTTPS(ctx, https) }()
	finished := make(chan struct{})
	go func() { s.done.Wait(); s.full.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = ctx.Err()
	}
	// net/http's HTTP/1.1 handlers run their queries' full path themselves
	// (not in s.full): they are done, or ctx is, before the upstream waits
	// are cancelled and what is left closed.
	httpsErr := <-httpsDone
	s.cancel()
	for _, c := range udp {
		c.Close()
	}
	s.conns.closeAll()
	return errors.Join(err, httpsErr)
}
