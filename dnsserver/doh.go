package dnsserver

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/wire"
)

const (
	dohPath        = transport.DoHPath
	dohContentType = transport.DoHContentType
)

// dohContentTypes is the header value, shared (never changed).
var dohContentTypes = []string{dohContentType}

// dohHandler answers RFC 8484 requests: GET with ?dns= (base64url, no
// padding) and POST with the message as the body. Each goes through the
// same flow as a TCP query, synchronously.
type dohHandler struct {
	s       *Server
	trusted []netip.Prefix
}

func (h *dohHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pkt, post, refused := transport.DoHMessage(nil, r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"))
	if post && refused == nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, dns.MaxMsgSize+1))
		switch {
		case err != nil:
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		case len(body) > dns.MaxMsgSize:
			refused = transport.RefuseTooLong
		}
		pkt = body
	}
	if refused == nil && len(pkt) < 12 {
		refused = transport.RefuseNotDNS
	}
	if refused != nil {
		refuse(w, refused)
		return
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	client := h.clientOf(peer, r.Header.Get("Forwarded"), r.Header.Values("X-Forwarded-For"))
	var names []string
	if r.TLS != nil {
		names = transport.PeerNames(*r.TLS)
	}
	resp := h.s.answerStream(pkt, client, local(r), names)
	if resp == nil {
		refuse(w, transport.RefuseNoAnswer)
		return
	}
	h2 := w.Header()
	h2["Content-Type"] = dohContentTypes
	h2["Cache-Control"] = []string{"max-age=" + strconv.Itoa(int(wire.MinTTL(resp)))}
	_, _ = w.Write(resp)
}

// refuse answers an HTTP/1.1 request HTTP refuses.
func refuse(w http.ResponseWriter, r *transport.DoHRefusal) {
	if r == transport.RefuseMethod {
		w.Header().Set("Allow", "GET, POST")
	}
	http.Error(w, r.Why, r.Status)
}

// clientOf is who asked: the peer, or, when the peer is a trusted proxy,
// the client its Forwarded or X-Forwarded-For header names (the last
// address the proxy added).
func (h *dohHandler) clientOf(peer netip.AddrPort, forwarded string, x []string) netip.AddrPort {
	if !peer.IsValid() || !model.Holds(h.trusted, peer.Addr()) {
		return peer
	}
	if forwarded != "" {
		if a, ok := forwardedFor(forwarded); ok {
			return netip.AddrPortFrom(a, 0)
		}
	}
	if len(x) > 0 {
		last := x[len(x)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
			return netip.AddrPortFrom(a.Unmap(), 0)
		}
	}
	return peer
}

// forwardedFor reads the last for= of an RFC 7239 Forwarded header.
func forwardedFor(h string) (netip.Addr, bool) {
	elems := strings.Split(h, ",")
	for _, pair := range strings.Split(elems[len(elems)-1], ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(k, "for") {
			continue
		}
		v = strings.Trim(v, `"`)
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap.Addr().Unmap(), true
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
		if a, err := netip.ParseAddr(v); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func local(r *http.Request) netip.AddrPort {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return transport.AddrPortOf(a)
	}
	return netip.AddrPort{}
}

// answerStream runs pkt through the flow as the stream transports do, the
// full path synchronously, and returns the reply (nil: none).
func (s *Server) answerStream(pkt []byte, peer, local netip.AddrPort, certNames []string) []byte {
	st := s.state.Load()
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	q := sc.query(origin{proto: metrics.HTTPS, client: peer.Addr().Unmap(), peer: peer, local: local, start: time.Now(), certNames: certNames})
	resp, done := s.serveFast(st, q, pkt, nil, sc)
	if done {
		if resp != nil {
			s.record(st, q, resp)
		}
		return resp // a new slice (dst was nil): sc's buffers are not in it
	}
	full := s.detach(st, q)
	if !s.fullSlots.TryTake() {
		// As many misses wait already as MaxFullPath allows: SERVFAIL at
		// once, as over UDP.
		resp = overloaded(nil, full)
		s.record(st, full, resp)
		return resp
	}
	// Not counted in s.full: its handler is, by net/http's Shutdown (a
	// handler's Add could race the Wait that s.full's callers have behind
	// their listeners' goroutines).
	var out []byte
	defer s.fullSlots.Release()
	s.serveFull(st, full, func(b []byte) error { out = append([]byte(nil), b...); return nil })
	return out
}

// scratches are the DoH handlers' scratch space: each request is a
// goroutine of its own, with no reader's scratch to borrow.
var scratches = sync.Pool{New: func() any { return newScratch() }}
