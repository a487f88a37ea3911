package dnsserver

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/transport"
	"github.com/s3dns/s3dns/wire"
)

// encryptedServer is a harness whose server also listens for DoT and DoH
// (and cleartext DoH) on loopback, with a certificate for 127.0.0.1.
func encryptedServer(t *testing.T, pki *dnstest.PKI, tlsFiles model.TLS, trusted ...string) (h *harness, dot, doh, plain string) {
	t.Helper()
	return encryptedServerWith(t, baseConfig(), tlsFiles, trusted...)
}

// encryptedServerWith is encryptedServer serving sc.
func encryptedServerWith(t testing.TB, sc serverConfig, tlsFiles model.TLS, trusted ...string) (h *harness, dot, doh, plain string) {
	t.Helper()
	h = start(t, sc)
	certs, err := transport.LoadCertificates(tlsFiles)
	if err != nil {
		t.Fatal(err)
	}
	e := Encrypted{TLS: []string{"127.0.0.1:0"}, HTTPS: []string{"127.0.0.1:0"}, HTTP: []string{"127.0.0.1:0"}, Certs: certs}
	for _, p := range trusted {
		e.TrustedProxies = append(e.TrustedProxies, netip.MustParsePrefix(p))
	}
	if err := h.srv.StartEncrypted(e); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.srv.Addrs() {
		switch {
		case strings.HasPrefix(a, "tls://"):
			dot = strings.TrimPrefix(a, "tls://")
		case strings.HasPrefix(a, "https://"):
			doh = strings.TrimPrefix(a, "https://")
		case strings.HasPrefix(a, "http://"):
			plain = strings.TrimPrefix(a, "http://")
		}
	}
	return h, dot, doh, plain
}

// DNS over TLS (RFC 7858) answers the same as TCP, with the certificate
// verified for 127.0.0.1 and ALPN dot, several queries on one connection;
// a client that does not trust the CA fails its handshake, counted.
func TestDNSOverTLS(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1", "dns.example")
	h, dot, _, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
	c := &dns.Client{Net: "tcp-tls", Timeout: 5 * time.Second,
		TLSConfig: &tls.Config{RootCAs: pki.Pool(), ServerName: "dns.example", NextProtos: []string{"dot"}}}
	conn, err := c.Dial(dot)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.Conn.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "dot" {
		t.Errorf("ALPN %q, want dot", p)
	}
	for range 3 { // full path, then the fast path, on one connection
		resp, _, err := c.ExchangeWithConn(question(listed, dns.TypeA), conn)
		if err != nil || len(resp.Answer) != 3 || resp.Answer[0].(*dns.CNAME).Target != vpce {
			t.Fatalf("%v %v", resp, err)
		}
	}
	// A reply is counted once written: just after the client has it.
	requests := func() float64 {
		return testutil.ToFloat64(h.metrics.Requests.WithLabelValues("tcp", "tls", "A", "endpoint", "s3-eu-west-2"))
	}
	dnstest.WaitFor(t, "three DoT queries counted", 2*time.Second, func() bool { return requests() >= 3 })
	if got := requests(); got != 3 {
		t.Errorf("s3dns_requests_total{proto=tcp,transport=tls} %v, want 3", got)
	}
	if got := testutil.ToFloat64(h.metrics.TLSHandshakes.WithLabelValues("tls")); got != 1 {
		t.Errorf("s3dns_tls_handshakes_total{transport=tls} %v, want 1 (one connection)", got)
	}
	if got := testutil.ToFloat64(h.metrics.TLSConnections.WithLabelValues("tls")); got != 1 {
		t.Errorf("s3dns_tls_connections{transport=tls} %v, want 1", got)
	}
	untrusting := &dns.Client{Net: "tcp-tls", Timeout: 2 * time.Second, TLSConfig: &tls.Config{ServerName: "dns.example"}}
	if _, _, err := untrusting.Exchange(question(listed, dns.TypeA), dot); err == nil {
		t.Fatal("a client without the CA got an answer")
	}
	dnstest.WaitFor(t, "the failed handshake counted", 5*time.Second, func() bool {
		return testutil.ToFloat64(h.metrics.TLSHandshakeErrors.WithLabelValues("refused_by_client")) >= 1
	})
}

// DNS over HTTPS (RFC 8484): GET and POST over HTTP/2, the reply's
// Cache-Control from its smallest TTL, 400/415/413/405 for bad requests;
// cleartext DoH takes the client from X-Forwarded-For only when the proxy
// is trusted.
func TestDNSOverHTTPS(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, _, doh, plain := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key}, "127.0.0.1/32")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: pki.Pool()}}}
	pkt, _ := question(listed, dns.TypeA).Pack()
	check := func(resp *http.Response, err error) *dns.Msg {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/dns-message" {
			t.Fatalf("%s: %s", resp.Status, body)
		}
		var m dns.Msg
		if err := m.Unpack(body); err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Cache-Control") != "max-age=60" {
			t.Errorf("Cache-Control %q, want max-age=60 (the answer's smallest TTL)", resp.Header.Get("Cache-Control"))
		}
		if resp.ProtoMajor != 2 && resp.TLS != nil {
			t.Errorf("%s, want HTTP/2 over TLS", resp.Proto)
		}
		return &m
	}
	get := "https://" + doh + "/dns-query?dns=" + base64.RawURLEncoding.EncodeToString(pkt)
	if m := check(client.Get(get)); len(m.Answer) != 3 {
		t.Fatalf("GET: %v", m)
	}
	if m := check(client.Post("https://"+doh+"/dns-query", "application/dns-message", bytes.NewReader(pkt))); len(m.Answer) != 3 {
		t.Fatalf("POST: %v", m)
	}
	// Refused alike over HTTP/2 (s3dns's) and HTTP/1.1 (net/http's, here
	// the cleartext listener).
	for _, via := range []struct {
		client *http.Client
		base   string
	}{{client, "https://" + doh}, {http.DefaultClient, "http://" + plain}} {
		client, base := via.client, via.base
		for _, c := range []struct {
			name   string
			do     func() (*http.Response, error)
			status int
		}{
			{"GET without dns=", func() (*http.Response, error) { return client.Get(base + "/dns-query") }, http.StatusBadRequest},
			{"GET with bad base64", func() (*http.Response, error) { return client.Get(base + "/dns-query?dns=%%%") }, http.StatusBadRequest},
			{"POST of another type", func() (*http.Response, error) {
				return client.Post(base+"/dns-query", "text/plain", bytes.NewReader(pkt))
			}, http.StatusUnsupportedMediaType},
			{"POST too long", func() (*http.Response, error) {
				return client.Post(base+"/dns-query", "application/dns-message", bytes.NewReader(make([]byte, 70000)))
			}, http.StatusRequestEntityTooLarge},
			{"PUT", func() (*http.Response, error) {
				req, _ := http.NewRequest(http.MethodPut, base+"/dns-query", bytes.NewReader(pkt))
				return client.Do(req)
			}, http.StatusMethodNotAllowed},
		} {
			resp, err := c.do()
			if err != nil {
				t.Fatalf("%s %s: %v", base, c.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("%s %s: %s, want %d", base, c.name, resp.Status, c.status)
			}
			if c.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, POST" {
				t.Errorf("%s %s: Allow %q", base, c.name, resp.Header.Get("Allow"))
			}
		}
	}
	if got := testutil.ToFloat64(h.metrics.Requests.WithLabelValues("tcp", "https", "A", "endpoint", "s3-eu-west-2")); got != 2 {
		t.Errorf("s3dns_requests_total{proto=tcp,transport=https} %v, want 2", got)
	}
	// One connection, reused: one handshake, open until the client lets go.
	if got := testutil.ToFloat64(h.metrics.TLSHandshakes.WithLabelValues("https")); got != 1 {
		t.Errorf("s3dns_tls_handshakes_total{transport=https} %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.metrics.TLSConnections.WithLabelValues("https")); got != 1 {
		t.Errorf("s3dns_tls_connections{transport=https} %v, want 1", got)
	}
	client.CloseIdleConnections()
	dnstest.WaitFor(t, "the closed connection no longer counted", 5*time.Second, func() bool {
		return testutil.ToFloat64(h.metrics.TLSConnections.WithLabelValues("https")) == 0
	})
	// A client that does not trust the certificate: the handshake fails,
	// counted and logged as for DoT, and no request reaches the handler.
	untrusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	if resp, err := untrusting.Get(get); err == nil {
		resp.Body.Close()
		t.Fatal("a client without the CA got an answer")
	}
	dnstest.WaitFor(t, "the failed DoH handshake counted", 5*time.Second, func() bool {
		return testutil.ToFloat64(h.metrics.TLSHandshakeErrors.WithLabelValues("refused_by_client")) >= 1
	})

	// Cleartext DoH behind a trusted proxy (127.0.0.1): the client its
	// header names decides, here one outside access.allow: REFUSED.
	req, _ := http.NewRequest(http.MethodPost, "http://"+plain+"/dns-query", bytes.NewReader(pkt))
	req.Header.Set("Content-Type", "application/dns-message")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m dns.Msg
	if err := m.Unpack(body); err != nil || m.Rcode != dns.RcodeRefused {
		t.Fatalf("a client outside allow through the trusted proxy: %v %v", &m, err)
	}
}

// A certificate that does not load, or one already expired, is not taken
// on reload: the one in use stays.
func TestCertificateReloadKeepsTheGoodOne(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile := dir+"/tls.crt", dir+"/tls.key"
	copyFile(t, cert, certFile)
	copyFile(t, key, keyFile)
	c, err := transport.LoadCertificates(model.TLS{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	good := c.Expiry()
	expiredCert, expiredKey := pki.Server(t, time.Now().Add(-time.Hour), "127.0.0.1")
	copyFile(t, expiredCert, certFile)
	copyFile(t, expiredKey, keyFile)
	if err := c.Reload(); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("reloading an expired certificate: %v", err)
	}
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil {
		t.Fatal("reloading garbage succeeded")
	}
	if !c.Expiry().Equal(good) {
		t.Fatal("a failed reload replaced the certificate in use")
	}
	newCert, newKey := pki.Server(t, time.Now().Add(48*time.Hour), "127.0.0.1")
	copyFile(t, newCert, certFile)
	copyFile(t, newKey, keyFile)
	if err := c.Reload(); err != nil || !c.Expiry().After(good) {
		t.Fatalf("reloading a good certificate: %v (expiry %v)", err, c.Expiry())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Sites by client certificate (authenticated views): a DoT or DoH client
// whose verified certificate names a site's client_names gets that site's
// policy, from any address; the same client without a certificate gets
// the top-level one. With require_client_cert, a client without one gets
// no handshake.
func TestSitesByClientCertificate(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h := start(t, baseConfig().with(func(c *serverConfig) {
		c.Sites = []map[string]any{{"name": "dr", "client_names": []string{"resolver.dr.example"}, "public": true}}
	}))
	for _, require := range []bool{false, true} {
		certs, err := transport.LoadCertificates(model.TLS{CertFile: cert, KeyFile: key, ClientCAFile: pki.CAFile, RequireClientCert: require})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.srv.StartEncrypted(Encrypted{TLS: []string{"127.0.0.1:0"}, HTTPS: []string{"127.0.0.1:0"}, Certs: certs}); err != nil {
			t.Fatal(err)
		}
	}
	var dots, dohs []string
	for _, a := range h.srv.Addrs() {
		if d, ok := strings.CutPrefix(a, "tls://"); ok {
			dots = append(dots, d)
		}
		if d, ok := strings.CutPrefix(a, "https://"); ok {
			dohs = append(dohs, d)
		}
	}
	clientCert, clientKey := pki.Client(t, "resolver.dr.example")
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := func(withCert bool) *tls.Config {
		c := &tls.Config{RootCAs: pki.Pool(), ServerName: "127.0.0.1"}
		if withCert {
			c.Certificates = []tls.Certificate{pair}
		}
		return c
	}
	public := func(m *dns.Msg) bool { return len(m.Answer) == 1 && m.Answer[0].Header().Rrtype == dns.TypeA }
	private := func(m *dns.Msg) bool { return len(m.Answer) == 3 && m.Answer[0].Header().Rrtype == dns.TypeCNAME }
	for _, withCert := range []bool{true, false} {
		want, what := private, "the top-level (private) answer"
		if withCert {
			want, what = public, "site dr's (public) answer"
		}
		c := &dns.Client{Net: "tcp-tls", Timeout: 5 * time.Second, TLSConfig: tlsConfig(withCert)}
		resp, _, err := c.Exchange(question(listed, dns.TypeA), dots[0])
		if err != nil || !want(resp) {
			t.Errorf("DoT, certificate %v: %v %v; want %s", withCert, resp, err, what)
		}
		// DoH over HTTP/1.1 (net/http) and HTTP/2 (transport.H2).
		for _, h2 := range []bool{false, true} {
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig(withCert), ForceAttemptHTTP2: h2}}
			pkt, _ := question(listed, dns.TypeA).Pack()
			httpResp, err := hc.Post("https://"+dohs[0]+"/dns-query", "application/dns-message", bytes.NewReader(pkt))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(httpResp.Body)
			httpResp.Body.Close()
			var m dns.Msg
			if err := m.Unpack(body); err != nil || !want(&m) || (httpResp.ProtoMajor == 2) != h2 {
				t.Errorf("DoH over %s, certificate %v: %v %v; want %s", httpResp.Proto, withCert, &m, err, what)
			}
		}
	}
	// require_client_cert: no certificate, no handshake.
	c := &dns.Client{Net: "tcp-tls", Timeout: 2 * time.Second, TLSConfig: tlsConfig(false)}
	if resp, _, err := c.Exchange(question(listed, dns.TypeA), dots[1]); err == nil {
		t.Fatalf("answered without a client certificate where one is required: %v", resp)
	}
	if resp, _, err := (&dns.Client{Net: "tcp-tls", Timeout: 5 * time.Second, TLSConfig: tlsConfig(true)}).Exchange(question(listed, dns.TypeA), dots[1]); err != nil || !public(resp) {
		t.Fatalf("with the certificate where one is required: %v %v", resp, err)
	}
}

// DoH misses share the full path's cap with UDP and TCP: beyond
// MaxFullPath, a miss gets SERVFAIL at once instead of another goroutine
// waiting on a silent upstream.
func TestDoHMissesCapped(t *testing.T) {
	t.Parallel() // waits on a silent upstream
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	up := dnstest.NewUpstream(t)
	up.SetMode(dnstest.Silent, 0)
	h := startOpts(t, baseConfig().with(func(c *serverConfig) { c.UpstreamTimeout = "1s" }), Options{MaxFullPath: 1}, up)
	certs, err := transport.LoadCertificates(model.TLS{CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.StartEncrypted(Encrypted{HTTPS: []string{"127.0.0.1:0"}, Certs: certs}); err != nil {
		t.Fatal(err)
	}
	var doh string
	for _, a := range h.srv.Addrs() {
		if d, ok := strings.CutPrefix(a, "https://"); ok {
			doh = d
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool()}}}
	quick := make(chan bool, 3)
	for i := range 3 {
		go func() {
			pkt, _ := question("miss"+strconv.Itoa(i)+".example.", dns.TypeA).Pack()
			start := time.Now()
			resp, err := client.Post("https://"+doh+"/dns-query", "application/dns-message", bytes.NewReader(pkt))
			if err != nil {
				quick <- false
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var m dns.Msg
			quick <- m.Unpack(body) == nil && m.Rcode == dns.RcodeServerFailure && time.Since(start) < 500*time.Millisecond
		}()
	}
	n := 0
	for range 3 {
		if <-quick {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d of 3 DoH misses got a quick SERVFAIL with room for 1 on the full path", n)
	}
}

// RFC 8467 padding: a query over TLS or HTTPS carrying the Padding option
// gets a reply padded to a multiple of 468 octets, the padding last in the
// OPT, on the full path and the fast one, errors included; over UDP and
// TCP, and without the option, replies are not padded.
func TestPaddingOfEncryptedReplies(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, dot, _, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
	padded := func(name string, qtype uint16, pad bool) *dns.Msg {
		m := withEDNS(question(name, qtype), 1232, false)
		if pad {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_PADDING{Padding: make([]byte, 20)})
		}
		return m
	}
	padding := func(m *dns.Msg) *dns.EDNS0_PADDING {
		opt := m.IsEdns0()
		if opt == nil || len(opt.Option) == 0 {
			return nil
		}
		p, _ := opt.Option[len(opt.Option)-1].(*dns.EDNS0_PADDING)
		return p
	}
	c := &dns.Client{Net: "tcp-tls", Timeout: 5 * time.Second, TLSConfig: &tls.Config{RootCAs: pki.Pool(), ServerName: "127.0.0.1"}}
	conn, err := c.Dial(dot)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []struct {
		what  string
		name  string
		qtype uint16
	}{
		{"full path", listed, dns.TypeA},
		{"fast path", listed, dns.TypeA},
		{"forwarded", unlisted, dns.TypeA},
		{"an error reply (a CHAOS query)", "version.bind.", dns.TypeTXT},
	} {
		m := padded(q.name, q.qtype, true)
		if q.qtype == dns.TypeTXT {
			m.Question[0].Qclass = dns.ClassCHAOS
		}
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		raw, err := conn.ReadMsgHeader(nil)
		if err != nil {
			t.Fatal(err)
		}
		var resp dns.Msg
		if err := resp.Unpack(raw); err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if len(raw)%wire.PadBlock != 0 || padding(&resp) == nil {
			t.Errorf("%s over TLS: %d octets (padding %v), want a multiple of %d with the padding last", q.what, len(raw), padding(&resp), wire.PadBlock)
		}
	}
	unpaddedTLS, _, err := c.ExchangeWithConn(padded(listed, dns.TypeA, false), conn)
	if err != nil || padding(unpaddedTLS) != nil {
		t.Errorf("no Padding option asked over TLS: %v, want no padding", err)
	}
	for _, network := range []string{"udp", "tcp"} {
		if resp := h.ask(t, network, padded(listed, dns.TypeA, true)); padding(resp) != nil {
			t.Errorf("%s: padded in clear text", network)
		}
	}
	// The fast path pads without allocating.
	pkt, _ := padded(listed, dns.TypeA, true).Pack()
	st, sc := h.srv.State(), newScratch()
	fast := func() {
		q := sc.query(origin{proto: metrics.TLS, client: clientLoopback})
		if resp, done := h.srv.serveFast(st, q, pkt, sc.out[:0], sc); !done || len(resp)%wire.PadBlock != 0 {
			t.Fatalf("fast path over TLS: done %v, %d octets", done, len(resp))
		}
	}
	if n := testing.AllocsPerRun(100, fast); n != 0 {
		t.Errorf("%v allocations per padded fast reply", n)
	}
}

// A cached answer over a kept DoT connection allocates nothing of
// s3dns's own: a round trip costs no more allocations than the same round
// trip to a bare TLS echo server in this process, which is crypto/tls's own
// share (it allocates a reader for each record it reads; more under -race).
func TestDoTReaderAllocatesNothing(t *testing.T) {
	if raceDetector {
		t.Skip("under -race crypto/tls's own allocations vary from one round trip to the next; go test ./... (the README's command) runs this")
	}
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, dot, _, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
	h.query(t, listed, dns.TypeA) // cached
	pkt, _ := withEDNS(question(listed, dns.TypeA), 1232, false).Pack()
	bare := dotAllocsPerRoundTrip(t, pki, tlsEcho(t, cert, key), pkt)
	if n := dotAllocsPerRoundTrip(t, pki, dot, pkt); n > bare {
		t.Fatalf("%v allocations per cached DoT query, %v beyond crypto/tls's own (a bare TLS echo: %v)", n, n-bare, bare)
	}
}

// tlsEcho is a TLS server on loopback that writes back every framed
// message it reads, from buffers it keeps: what crypto/tls allocates alone.
// dotAllocsPerRoundTrip counts the allocations of one framed round trip of
// pkt over a TLS connection to addr (for addr = tlsEcho's, crypto/tls's
// own share).
func dotAllocsPerRoundTrip(t *testing.T, pki *dnstest.PKI, addr string, pkt []byte) float64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return allocsPerRoundTrip(t, conn, pkt)
}

func tlsEcho(t *testing.T, certFile, keyFile string) string {
	return dnstest.TLSServing(t, certFile, keyFile, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 2+0xffff)
		for {
			if _, err := io.ReadFull(c, buf[:2]); err != nil {
				return
			}
			n := int(buf[0])<<8 | int(buf[1])
			if _, err := io.ReadFull(c, buf[2:2+n]); err != nil {
				return
			}
			if _, err := c.Write(buf[:2+n]); err != nil {
				return
			}
		}
	}).Addr().String()
}
