package dnsserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
)

// dohPost asks q over DoH with client and returns the reply.
func dohPost(client *http.Client, url string, q *dns.Msg) (*dns.Msg, *http.Response, error) {
	pkt, err := q.Pack()
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Post(url, dohContentType, bytes.NewReader(pkt))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp, fmt.Errorf("%s: %s", resp.Status, body)
	}
	m := new(dns.Msg)
	return m, resp, m.Unpack(body)
}

func h2Client(pki *dnstest.PKI) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: pki.Pool()}}}
}

// Over s3dns's own HTTP/2, one connection carries cached answers and misses
// at once: each request gets its own reply, the misses' replies as they
// come, and every query is counted once, over one handshake.
func TestDoHOverHTTP2ManyStreams(t *testing.T) {
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, _, doh, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
	h.up.SetMode(dnstest.Slow, 50*time.Millisecond) // misses overlap the cached answers
	client := h2Client(pki)
	url := "https://" + doh + "/dns-query"
	// One request first: requests started before a connection is up each
	// dial one of their own (net/http's client).
	if _, _, err := dohPost(client, url, question(listed, dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := listed
			if i%2 == 1 {
				name = fmt.Sprintf("miss%d.example.", i)
			}
			q := question(name, dns.TypeA)
			m, resp, err := dohPost(client, url, q)
			switch {
			case err != nil:
				errs <- fmt.Errorf("%s: %v", name, err)
			case resp.ProtoMajor != 2:
				errs <- fmt.Errorf("%s over %s, want HTTP/2", name, resp.Proto)
			case m.Id != q.Id || m.Question[0].Name != name:
				errs <- fmt.Errorf("asked %s (id %d), got the reply to %s (id %d)", name, q.Id, m.Question[0].Name, m.Id)
			case name == listed && len(m.Answer) != 3:
				errs <- fmt.Errorf("%s: %v", name, m)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := testutil.ToFloat64(h.metrics.TLSHandshakes.WithLabelValues("https")); got != 1 {
		t.Errorf("%v handshakes, want 1: the streams share a connection", got)
	}
	// A miss is counted just after its reply is written.
	dnstest.WaitFor(t, fmt.Sprintf("%d DoH queries counted", n+1), 5*time.Second, func() bool {
		var counted float64
		for _, action := range []string{"endpoint", "forward"} {
			for _, ep := range []string{"s3-eu-west-2", ""} {
				counted += testutil.ToFloat64(h.metrics.Requests.WithLabelValues("tcp", "https", "A", action, ep))
			}
		}
		return counted == n+1
	})
}

// At shutdown a DoH connection stops taking requests (GOAWAY over HTTP/2)
// but the miss it is waiting for is still answered, over HTTP/2 and
// HTTP/1.1, and the connections' slots are given back.
func TestDoHShutdownAnswersWhatIsInFlight(t *testing.T) {
	for _, h1 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/2", true: "HTTP/1.1"}[h1], func(t *testing.T) {
			pki := dnstest.NewPKI(t)
			cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
			h, _, doh, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
			client := newDoHConnClient(pki, h1)
			url := "https://" + doh + "/dns-query"
			if _, _, err := dohPost(client.Client, url, question(listed, dns.TypeA)); err != nil {
				t.Fatal(err) // the connection is up
			}
			h.up.SetMode(dnstest.Slow, 300*time.Millisecond)
			type result struct {
				m   *dns.Msg
				err error
			}
			got := make(chan result, 1)
			go func() {
				m, _, err := dohPost(client.Client, url, question("late.example.", dns.TypeA))
				got <- result{m, err}
			}()
			// The upstream counts it on arrival, then waits 300 ms to answer.
			dnstest.WaitFor(t, "the miss at the upstream", 5*time.Second, func() bool { return h.up.Count("late.example.", "udp") == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := h.srv.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			r := <-got
			if r.err != nil || r.m.Question[0].Name != "late.example." {
				t.Fatalf("the miss in flight at shutdown: %v %v", r.m, r.err)
			}
			if got := testutil.ToFloat64(h.metrics.TLSConnections.WithLabelValues("https")); got != 0 {
				t.Errorf("%v DoH connections open after shutdown", got)
			}
			if got := testutil.ToFloat64(h.metrics.TCPConnections); got != 0 {
				t.Errorf("s3dns_tcp_connections = %v after shutdown", got)
			}
		})
	}
}
