package upstream

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"sync"
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
	ln := dnstest.TLSListener(t, certFile, keyFile)
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

// reversingDoTServer reads batch queries on each connection before it
// answers any, then answers them last first; if stray, it adds a reply
// nobody asked for before them; if hangUp, it closes the connection after
// one batch (as an idle timeout would). It counts connections.
func reversingDoTServer(t *testing.T, certFile, keyFile string, batch int, stray, hangUp bool) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln := dnstest.TLSListener(t, certFile, keyFile)
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				co := &dns.Conn{Conn: c}
				for {
					var qs []*dns.Msg
					for len(qs) < batch {
						q, err := co.ReadMsg()
						if err != nil {
							return
						}
						qs = append(qs, q)
					}
					if stray {
						m := new(dns.Msg)
						m.SetReply(qs[0])
						m.Id ^= 0x5a5a
						_ = co.WriteMsg(m)
					}
					for i := len(qs) - 1; i >= 0; i-- {
						m := new(dns.Msg)
						m.SetReply(qs[i])
						rr, _ := dns.NewRR(qs[i].Question[0].Name + " 60 IN A 192.0.2.1")
						m.Answer = []dns.RR{rr}
						if err := co.WriteMsg(m); err != nil {
							return
						}
					}
					if hangUp {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// Queries to a DoT upstream share one connection at once (pipelining): a
// server that answers only once it holds 20 of them, last first, answers
// 20 concurrent queries over one connection, each with its own reply. A
// reply under an ID nobody waits for closes the connection, counted as a
// mismatch, and the query fails over.
func TestDoTUpstreamPipelines(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(time.Hour), "dns.example")
	const batch = 20
	addr, conns := reversingDoTServer(t, cert, key, batch, false, false)
	f := New([]string{"tls://" + addr + "#dns.example"}, 5*time.Second, WithRoots(poolOf(t, pki.CAFile)))
	defer f.Close()
	var wg sync.WaitGroup
	for i := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("q%d.example.", i)
			resp, _, err := f.Exchange(context.Background(), askA(name))
			if err != nil || len(resp.Answer) != 1 || resp.Answer[0].Header().Name != name {
				t.Errorf("%s: %v %v", name, resp, err)
			}
		}()
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for %d concurrent queries, want them all on one", n, batch)
	}

	strayAddr, _ := reversingDoTServer(t, cert, key, 1, true, false)
	plain := dnstest.NewUpstream(t, record)
	var mismatches atomic.Int32
	g := New([]string{"tls://" + strayAddr + "#dns.example", plain.Addr}, time.Second, WithRoots(poolOf(t, pki.CAFile)),
		WithObserver(func(_, result string, _ time.Duration) {
			if result == "mismatch" {
				mismatches.Add(1)
			}
		}))
	defer g.Close()
	if _, from, err := g.Exchange(context.Background(), askA("www.example.")); err != nil || from != plain.Addr {
		t.Errorf("after a stray reply: answered by %q (%v), want the plain upstream", from, err)
	}
	if mismatches.Load() == 0 {
		t.Error("the stray reply was not counted as a mismatch")
	}
}

// A kept connection the server has closed (its idle timeout) is dialled
// again: the query is answered by the DoT upstream, not failed over.
func TestDoTUpstreamRedialsAClosedConnection(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(time.Hour), "dns.example")
	addr, conns := reversingDoTServer(t, cert, key, 1, false, true)
	plain := dnstest.NewUpstream(t, record)
	f := New([]string{"tls://" + addr + "#dns.example", plain.Addr}, time.Second, WithRoots(poolOf(t, pki.CAFile)))
	defer f.Close()
	for i := range 5 {
		if _, from, err := f.Exchange(context.Background(), askA("www.example.")); err != nil || from == plain.Addr {
			t.Fatalf("query %d: answered by %q (%v), want the DoT upstream on a new connection", i, from, err)
		}
	}
	if n := conns.Load(); n != 5 {
		t.Errorf("%d connections for 5 queries to a server that hangs up after each, want 5", n)
	}
}
