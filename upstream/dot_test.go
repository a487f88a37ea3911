package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/internal/dnstest"
)

// dotServer is a DNS over TLS server on loopback answering every A query
// with 192.0.2.1, counting connections.
func dotServer(t *testing.T, certFile, keyFile string) (addr string, conns *atomic.Int32) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	counting := &countingListener{Listener: ln, n: conns}
	srv := &dns.Server{Listener: counting, Net: "tcp-tls", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A 192.0.2.1")
		m.Answer = []dns.RR{rr}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String(), conns
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func poolOf(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	p, err := config.LoadCAs(caFile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A tls:// upstream is asked over DNS over TLS with its certificate
// verified for the name after #, the connection kept for the next queries;
// a certificate for another name, or from roots not trusted, fails the
// exchange, and the next upstream answers.
func TestDoTUpstream(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(time.Hour), "dns.example")
	addr, conns := dotServer(t, cert, key)
	f := New([]string{"tls://" + addr + "#dns.example"}, time.Second, WithRoots(poolOf(t, pki.CAFile)))
	defer f.Close()
	for range 5 {
		resp, from, err := f.Exchange(context.Background(), askA("www.example."))
		if err != nil || len(resp.Answer) != 1 || from != "tls://"+addr+"#dns.example" {
			t.Fatalf("%v from %s: %v", resp, from, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential queries, want one kept open", n)
	}

	plain := dnstest.NewUpstream(t, record)
	for name, f := range map[string]*Forwarder{
		"another name":    New([]string{"tls://" + addr + "#other.example", plain.Addr}, time.Second, WithRoots(poolOf(t, pki.CAFile))),
		"untrusted roots": New([]string{"tls://" + addr + "#dns.example", plain.Addr}, time.Second),
	} {
		_, from, err := f.Exchange(context.Background(), askA("www.example."))
		if err != nil || from != plain.Addr {
			t.Errorf("%s: answered by %q (%v), want the plain upstream after the DoT one failed verification", name, from, err)
		}
		f.Close()
	}
}
