package transport

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strings"
)

// DoHPath is where DNS over HTTPS is served (RFC 8484 §6's example).
const DoHPath = "/dns-query"

// DoHContentType is RFC 8484's media type.
const DoHContentType = "application/dns-message"

// DoHRefusal is what HTTP answers a DoH request it refuses: a status and
// why, in text. The same over HTTP/1.1 (net/http) and HTTP/2 (H2).
type DoHRefusal struct {
	Status int
	Why    string
}

// The refusals.
var (
	RefuseNotFound  = &DoHRefusal{404, "DNS over HTTPS is served at " + DoHPath}
	RefuseMethod    = &DoHRefusal{405, "GET or POST"} // with Allow: GET, POST
	RefuseMediaType = &DoHRefusal{415, "Content-Type must be " + DoHContentType}
	RefuseNoQuery   = &DoHRefusal{400, "dns= holds no base64url DNS message"}
	RefuseTooLong   = &DoHRefusal{413, "a DNS message is at most 65535 bytes"}
	RefuseNotDNS    = &DoHRefusal{400, "not a DNS message"}
	RefuseNoAnswer  = &DoHRefusal{400, "no answer for this message"}
)

// DoHMessage reads a request's method, path (with its query) and media
// type: a GET's message is appended to dst; a POST's is its body, to be
// read (post). refused says why HTTP refuses the request, nil if it does
// not.
func DoHMessage(dst []byte, method, path, contentType string) (msg []byte, post bool, refused *DoHRefusal) {
	switch {
	case !isDoHPath(path):
		return dst, false, RefuseNotFound
	case method == "GET":
		msg, ok := getMessage(dst, path)
		if !ok {
			return msg, false, RefuseNoQuery
		}
		return msg, false, nil
	case method == "POST":
		if contentType != DoHContentType {
			return dst, true, RefuseMediaType
		}
		return dst, true, nil
	}
	return dst, false, RefuseMethod
}

// isDoHPath reports whether a request's :path is DoHPath, with or without
// a query string.
func isDoHPath(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return p == DoHPath
}

// getMessage appends the DNS message of a GET's dns= parameter (base64url,
// padding tolerated) to dst.
func getMessage(dst []byte, path string) ([]byte, bool) {
	_, query, _ := strings.Cut(path, "?")
	var b64 string
	for query != "" {
		var param string
		param, query, _ = strings.Cut(query, "&")
		if v, ok := strings.CutPrefix(param, "dns="); ok {
			b64 = v
			break
		}
	}
	if strings.IndexByte(b64, '%') >= 0 {
		var err error
		if b64, err = url.QueryUnescape(b64); err != nil {
			return dst, false
		}
	}
	b64 = strings.TrimRight(b64, "=")
	if b64 == "" {
		return dst, false
	}
	n := base64.RawURLEncoding.DecodedLen(len(b64))
	if n > maxMessage {
		return dst, false
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	m, err := base64.RawURLEncoding.Decode(dst[start:], []byte(b64))
	if err != nil {
		return dst[:start], false
	}
	return dst[:start+m], true
}

// SplitH2 returns the connections of ln (handshaken TLS ones, from
// DoHListener) that chose HTTP/1.1, for net/http; those that chose h2 go
// to serve, each on a goroutine of its own started by serve's caller.
func SplitH2(ln net.Listener, serve func(*tls.Conn)) net.Listener {
	return &splitH2{Listener: ln, serve: serve}
}

type splitH2 struct {
	net.Listener
	serve func(*tls.Conn)
}

func (l *splitH2) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return c, err
		}
		if tc, ok := c.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
			l.serve(tc)
			continue
		}
		return c, nil
	}
}
