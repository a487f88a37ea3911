package dnsserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/s3dns/s3dns/metrics"
)

// Encrypted are the listeners of DNS over TLS and DNS over HTTPS.
type Encrypted struct {
	TLS   []string // DoT (RFC 7858): the TCP flow over TLS
	HTTPS []string // DoH (RFC 8484) at /dns-query, HTTP/2 and HTTP/1.1
	HTTP  []string // DoH in clear text, for a TLS-terminating proxy
	// TrustedProxies may name the DoH client (X-Forwarded-For, Forwarded).
	TrustedProxies []netip.Prefix
	Certs          *Certificates // for TLS and HTTPS
}

// StartEncrypted binds every encrypted listener and serves them in the
// background, or binds none. They are transports only: each query takes
// the same flow as over UDP and TCP.
func (s *Server) StartEncrypted(e Encrypted) error {
	var lns []net.Listener
	bind := func(addrs []string) ([]net.Listener, error) {
		var out []net.Listener
		for _, a := range addrs {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				return nil, err
			}
			lns = append(lns, ln)
			out = append(out, ln)
		}
		return out, nil
	}
	dot, err1 := bind(e.TLS)
	doh, err2 := bind(e.HTTPS)
	plain, err3 := bind(e.HTTP)
	if err := errors.Join(err1, err2, err3); err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(dot) > 0 {
		s.metrics.TLSHandshakes.WithLabelValues(metrics.TLS.String())
		s.metrics.TLSConnections.WithLabelValues(metrics.TLS.String())
	}
	if len(doh) > 0 {
		s.metrics.TLSHandshakes.WithLabelValues(metrics.HTTPS.String())
		s.metrics.TLSConnections.WithLabelValues(metrics.HTTPS.String())
	}
	for _, ln := range dot {
		tl := &handshaking{Listener: tls.NewListener(ln, e.Certs.config("dot")), s: s}
		s.tcp = append(s.tcp, tl)
		s.addrs = append(s.addrs, "tls://"+ln.Addr().String())
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			s.serveTCP(tl, metrics.TLS)
		}()
	}
	handler := &dohHandler{s: s, trusted: e.TrustedProxies}
	for _, ln := range doh {
		srv := s.httpServer(handler)
		srv.TLSConfig = e.Certs.config("h2", "http/1.1")
		open := s.metrics.TLSConnections.WithLabelValues(metrics.HTTPS.String())
		srv.ConnState = func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				open.Inc()
			case http.StateClosed, http.StateHijacked:
				open.Dec()
			}
		}
		s.https = append(s.https, srv)
		s.addrs = append(s.addrs, "https://"+ln.Addr().String())
		hl := newHandshaken(ln, srv.TLSConfig, s)
		go func() { _ = srv.Serve(hl) }()
	}
	for _, ln := range plain {
		srv := s.httpServer(handler)
		s.https = append(s.https, srv)
		s.addrs = append(s.addrs, "http://"+ln.Addr().String())
		go func() { _ = srv.Serve(ln) }()
	}
	return nil
}

// httpServer serves DoH with the TCP timeouts: a slow or idle client
// cannot hold a connection longer than over TCP.
func (s *Server) httpServer(h http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle(dohPath, h)
	return &http.Server{Handler: mux, ReadHeaderTimeout: s.opts.TCPReadTimeout, IdleTimeout: 30 * time.Second,
		MaxHeaderBytes: 16 << 10,
		// As many queries in flight on one connection as a DoT client may
		// pipeline on its connection, and more than dnsperf's default.
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}
}

// shutdownHTTPS stops the DoH servers, letting requests in flight finish
// within ctx.
func (s *Server) shutdownHTTPS(ctx context.Context, servers []*http.Server) error {
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// handshaking hands on DoT connections that count their handshakes.
type handshaking struct {
	net.Listener
	s *Server
}

// Accept returns the next connection, its handshake to run on its first
// read: on the connection's own goroutine, so that a slow client delays
// nobody else.
func (h *handshaking) Accept() (net.Conn, error) {
	c, err := h.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &lazyHandshake{Conn: c.(*tls.Conn), s: h.s}, nil
}

// lazyHandshake runs the handshake on the connection's first read, within
// the read timeout, and counts the ones that fail.
type lazyHandshake struct {
	*tls.Conn
	s     *Server
	done  bool
	names []string // the verified client certificate's, once done
}

// peerNames are the verified client certificate's names (nil: none), known
// once the first read has done the handshake.
func (c *lazyHandshake) peerNames() []string { return c.names }

func (c *lazyHandshake) Read(b []byte) (int, error) {
	if !c.done {
		c.done = true
		ctx, cancel := context.WithTimeout(context.Background(), c.s.opts.TCPReadTimeout)
		err := c.Conn.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.s.handshakeFailed(c.RemoteAddr(), metrics.TLS, err)
			return 0, err
		}
		c.s.metrics.TLSHandshakes.WithLabelValues(metrics.TLS.String()).Inc()
		c.names = peerNames(c.Conn.ConnectionState())
	}
	return c.Conn.Read(b)
}

// handshakeFailed counts and logs a failed handshake.
func (s *Server) handshakeFailed(peer net.Addr, transport metrics.Proto, err error) {
	s.metrics.TLSHandshakeErrors.WithLabelValues(handshakeReason(err)).Inc()
	s.log.Debug("TLS handshake failed", "client", peer.String(), "transport", transport.String(), "error", err)
}
