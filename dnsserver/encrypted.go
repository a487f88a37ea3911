package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/transport"
)

// Encrypted are the listeners of DNS over TLS and DNS over HTTPS.
type Encrypted struct {
	TLS   []string // DoT (RFC 7858): the TCP flow over TLS
	HTTPS []string // DoH (RFC 8484) at /dns-query, HTTP/2 and HTTP/1.1
	HTTP  []string // DoH in clear text, for a TLS-terminating proxy
	// TrustedProxies may name the DoH client (X-Forwarded-For, Forwarded).
	TrustedProxies []netip.Prefix
	Certs          *transport.Certificates // for TLS and HTTPS
}

// StartEncrypted binds every encrypted listener and serves them in the
// background, or binds none. They are transports only: each query takes
// the same flow as over UDP and TCP.
func (s *Server) StartEncrypted(e Encrypted) error {
	lns, err := transport.ListenStreams(slices.Concat(e.TLS, e.HTTPS, e.HTTP)...)
	if err != nil {
		return err
	}
	dot, doh, plain := lns[:len(e.TLS)], lns[len(e.TLS):len(e.TLS)+len(e.HTTPS)], lns[len(e.TLS)+len(e.HTTPS):]
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
		tl := transport.DoTListener(ln, e.Certs.Config("dot"), s.handshakes(metrics.TLS))
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
		srv.TLSConfig = e.Certs.Config("h2", "http/1.1")
		open := s.metrics.TLSConnections.WithLabelValues(metrics.HTTPS.String())
		srv.ConnState = func(c net.Conn, state http.ConnState) {
			trackHTTP1(c, state)
			switch state {
			case http.StateNew:
				open.Inc()
			case http.StateClosed, http.StateHijacked:
				open.Dec()
			}
		}
		ln = &admittingDoH{Listener: ln, s: s, trusted: e.TrustedProxies}
		s.https = append(s.https, srv)
		s.addrs = append(s.addrs, "https://"+ln.Addr().String())
		// Connections that chose h2 are served by s3dns's own HTTP/2
		// (transport.H2); net/http serves HTTP/1.1.
		hl := transport.SplitH2(transport.DoHListener(ln, srv.TLSConfig, s.handshakes(metrics.HTTPS)), s.goDoH2(handler))
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			_ = srv.Serve(hl)
		}()
	}
	for _, ln := range plain {
		srv := s.httpServer(handler)
		srv.ConnState = trackHTTP1
		s.https = append(s.https, srv)
		s.addrs = append(s.addrs, "http://"+ln.Addr().String())
		ln = &admittingDoH{Listener: ln, s: s, trusted: e.TrustedProxies}
		go func() { _ = srv.Serve(ln) }()
	}
	return nil
}

// httpServer serves DoH over HTTP/1.1 with the TCP timeouts: a slow or
// idle client cannot hold a connection longer than over TCP.
func (s *Server) httpServer(h http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle(dohPath, h)
	return &http.Server{Handler: mux, ReadHeaderTimeout: s.opts.TCPReadTimeout, IdleTimeout: s.state.Load().Config.TCP.IdleTimeout,
		MaxHeaderBytes: 16 << 10}
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

// handshakes are the counting and logging around a transport's TLS
// handshakes, within the TCP read timeout.
func (s *Server) handshakes(p metrics.Proto) transport.Handshakes {
	ok := s.metrics.TLSHandshakes.WithLabelValues(p.String())
	return transport.Handshakes{Timeout: s.opts.TCPReadTimeout, OK: ok.Inc, Failed: func(peer net.Addr, err error) {
		s.metrics.TLSHandshakeErrors.WithLabelValues(transport.HandshakeReason(err)).Inc()
		s.log.Debug("TLS handshake failed", "client", peer.String(), "transport", p.String(), "error", err)
	}}
}
