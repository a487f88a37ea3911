package dnsserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/model"
)

// dohConnClient is an HTTP client that keeps one DoH connection (HTTP/2,
// or HTTP/1.1 when h1), and remembers its local address: how the server
// knows it.
type dohConnClient struct {
	*http.Client
	mu    sync.Mutex
	local string
}

func newDoHConnClient(pki *dnstest.PKI, h1 bool) *dohConnClient {
	c := &dohConnClient{}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool()}, MaxConnsPerHost: 1, ForceAttemptHTTP2: !h1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				c.mu.Lock()
				c.local = conn.LocalAddr().String()
				c.mu.Unlock()
			}
			return conn, err
		}}
	if h1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	c.Client = &http.Client{Timeout: 10 * time.Second, Transport: tr}
	return c
}

func (c *dohConnClient) localAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local
}

// DoH connections are admitted as TCP and DoT ones are, at accept and
// before their handshake: they count in s3dns_tcp_connections and against
// access.tcp_per_client, an idle one (HTTP/1.1 or HTTP/2) gives way to its
// client's new one, and with every one busy the new one is reset.
func TestDoHConnectionsCappedPerClient(t *testing.T) {
	t.Parallel() // waits on a slow upstream
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	sc := baseConfig().with(func(c *serverConfig) {
		c.UpstreamTimeout = "10s"
		c.Access = map[string]any{"tcp_per_client": 2}
		c.TCP = map[string]any{"idle_timeout": "1m"}
	})
	h, _, doh, _ := encryptedServerWith(t, sc, model.TLS{CertFile: cert, KeyFile: key})
	slow := "slow.example."
	h.up.Add(t, slow+" 60 IN A 192.0.2.1")
	h.up.DelayName(slow, 2*time.Second)
	url := "https://" + doh + "/dns-query"

	answered := func(c *dohConnClient) bool {
		t.Helper()
		m, _, err := dohPost(c.Client, url, question(listed, dns.TypeA))
		return err == nil && len(m.Answer) == 3
	}
	type result struct {
		m   *dns.Msg
		err error
	}
	busy := func(c *dohConnClient) chan result { // a request in flight for 2 s
		got := make(chan result, 1)
		go func() {
			m, _, err := dohPost(c.Client, url, question(slow, dns.TypeA))
			got <- result{m, err}
		}()
		return got
	}
	// owed is what holds a client's connection, as the server sees it (-1:
	// not held).
	owed := func(c *dohConnClient) int32 {
		h.srv.conns.mu.Lock()
		defer h.srv.conns.mu.Unlock()
		for hc := range h.srv.conns.open {
			if hc.RemoteAddr().String() == c.localAddr() {
				return hc.Owed()
			}
		}
		return -1
	}
	evicted := func() float64 { return testutil.ToFloat64(h.metrics.TCPClosed.WithLabelValues(closedEvicted)) }
	open := func() float64 { return testutil.ToFloat64(h.metrics.TCPConnections) }

	a, b := newDoHConnClient(pki, true), newDoHConnClient(pki, false)
	if !answered(a) || !answered(b) {
		t.Fatal("a DoH connection was not answered")
	}
	bSlow := busy(b)
	dnstest.WaitFor(t, "a (HTTP/1.1) idle and b (HTTP/2) busy, as the server sees them", 3*time.Second, func() bool {
		return owed(a) == 0 && owed(b) == 1
	})
	if open() != 2 {
		t.Fatalf("s3dns_tcp_connections = %v with two DoH connections open", open())
	}
	c := newDoHConnClient(pki, false) // a, idle over HTTP/1.1, gives way
	if !answered(c) {
		t.Fatal("the third connection was not served")
	}
	dnstest.WaitFor(t, "a closed for c", 3*time.Second, func() bool { return owed(a) == -1 && evicted() == 1 && open() == 2 })
	dnstest.WaitFor(t, "c idle", 3*time.Second, func() bool { return owed(c) == 0 })
	d := newDoHConnClient(pki, true) // c, idle over HTTP/2, gives way
	if !answered(d) {
		t.Fatal("the fourth connection was not served")
	}
	dnstest.WaitFor(t, "c closed for d", 3*time.Second, func() bool { return owed(c) == -1 && evicted() == 2 && open() == 2 })
	dSlow := busy(d)
	dnstest.WaitFor(t, "b and d busy", 3*time.Second, func() bool { return owed(b) == 1 && owed(d) == 1 })
	if !refusedAtAccept(t, doh) {
		t.Fatal("a connection over the cap was kept while every one had a request in flight")
	}
	if got := testutil.ToFloat64(h.metrics.TCPRefused.WithLabelValues(refusedPerClient)); got != 1 {
		t.Fatalf("per_client refusals = %v, want 1", got)
	}
	for _, got := range []chan result{bSlow, dSlow} {
		r := <-got
		if r.err != nil || len(r.m.Answer) != 1 {
			t.Fatalf("a busy connection's answer: %v %v", r.m, r.err)
		}
	}
}

// A client outside access.allow is reset at accept on the DoH listeners,
// before any handshake (which it could otherwise make the server do as
// often as it likes); a trusted proxy is let in on the cleartext one, and
// its clients are admitted by the address it names.
func TestDoHConnectionsOutsideTheACLRefusedAtAccept(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	sc := baseConfig().with(func(c *serverConfig) { c.Access = map[string]any{"allow": []string{"192.0.2.0/24"}} })
	h, _, doh, plain := encryptedServerWith(t, sc, model.TLS{CertFile: cert, KeyFile: key}, "127.0.0.2/32")
	if !refusedAtAccept(t, doh) || !refusedAtAccept(t, plain) {
		t.Fatal("a DoH connection from outside access.allow was kept")
	}
	if got := testutil.ToFloat64(h.metrics.TCPRefused.WithLabelValues(refusedACL)); got != 2 {
		t.Fatalf("acl refusals = %v, want 2", got)
	}
	if got := testutil.ToFloat64(h.metrics.TLSHandshakes.WithLabelValues(metrics.HTTPS.String())); got != 0 {
		t.Fatalf("%v handshakes done for a refused client", got)
	}
	// The trusted proxy (127.0.0.2) names an allowed client.
	proxy := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext(ctx, network, addr)
	}}}
	pkt, err := question(listed, dns.TypeA).Pack()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+plain+"/dns-query", bytes.NewReader(pkt))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", dohContentType)
	req.Header.Set("X-Forwarded-For", "192.0.2.7")
	resp, err := proxy.Do(req)
	if err != nil {
		t.Fatalf("the trusted proxy was refused: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m dns.Msg
	if err := m.Unpack(body); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 3 {
		t.Fatalf("the proxy's client's answer: %v %v", &m, err)
	}
}

// The admitted connection still does what its socket does for the layers
// above: a half-close (net/http's orderly close over listen_http), and its
// slot given back once, however often it is closed.
func TestDoHConnPassesThroughItsSocket(t *testing.T) {
	h := start(t, baseConfig())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	al := &admittingDoH{Listener: ln, s: h.srv}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := al.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(h.metrics.TCPConnections); got != 1 {
		t.Fatalf("s3dns_tcp_connections = %v with one admitted", got)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the client read %d, %v after the half-close, want EOF", n, err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatalf("the read side closed with the write side: %v", err)
	}
	c.Close()
	c.Close()
	if got := testutil.ToFloat64(h.metrics.TCPConnections); got != 0 {
		t.Fatalf("s3dns_tcp_connections = %v after closing twice", got)
	}
}
