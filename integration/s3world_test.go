package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/miekg/dns"
)

// The world the real-S3-client tests run in, inside a network and mount
// namespace of their own (see s3clients_test.go): test addresses on lo for
// the endpoint's two interfaces and for public S3, a fake public DNS, two
// fake S3 servers over HTTPS, and /etc/resolv.conf pointing at s3dns.
const (
	region       = "eu-west-2"
	endpointName = "vpce-0a1b2c3d4e5f67890-abcdefgh.s3." + region + ".vpce.amazonaws.com"
	worldDNS     = "127.0.0.53:53" // the fake public DNS inside the namespace
	s3dnsHTTP    = "127.0.0.1:9153"
)

var (
	interfaceAddrs = []string{"10.0.1.10", "10.0.2.10"} // the endpoint's network interfaces
	publicS3Addr   = "198.51.100.80"
)

// request is one HTTP request a fake S3 server saw.
type request struct {
	Local, SNI, Host, Method, Path string
}

// fakeS3 is gofakes3 over HTTPS on some addresses, logging every request.
type fakeS3 struct {
	name     string
	mu       sync.Mutex
	requests []request
	servers  []*http.Server
}

func (f *fakeS3) log(r *http.Request) {
	local := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local = a.String()
	}
	sni := ""
	if r.TLS != nil {
		sni = r.TLS.ServerName
	}
	f.mu.Lock()
	f.requests = append(f.requests, request{Local: local, SNI: sni, Host: r.Host, Method: r.Method, Path: r.URL.Path})
	f.mu.Unlock()
}

// take returns the requests seen since the last take.
func (f *fakeS3) take() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// buckets exist on both servers, so that a request that reaches the wrong
// one succeeds there and only the request log tells.
var buckets = []string{"listed-bucket", "unlisted-bucket", "my.dotted.bucket", "myap-123456789012",
	"myap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias"}

func startFakeS3(t *testing.T, name string, addrs []string, cert tls.Certificate) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	// Virtual-hosted names under these zones carry the bucket in the host;
	// the bare regional name takes path-style requests.
	faker := gofakes3.New(backend, gofakes3.WithHostBucketBase(
		"s3."+region+".amazonaws.com", "s3.dualstack."+region+".amazonaws.com", "s3-accesspoint."+region+".amazonaws.com"))
	f := &fakeS3{name: name}
	handler := faker.Server()
	for _, a := range addrs {
		ln, err := tls.Listen("tcp", net.JoinHostPort(a, "443"), &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.log(r)
			handler.ServeHTTP(w, r)
		}), ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLog}
		f.servers = append(f.servers, srv)
		go srv.Serve(ln)
	}
	t.Cleanup(func() {
		for _, s := range f.servers {
			s.Close()
		}
	})
	return f
}

// quietLog drops the servers' own complaints (the no-CA case makes clients
// abort handshakes on purpose); the request log is what the tests read.
var quietLog = log.New(io.Discard, "", 0)

// testPKI makes a CA and a server certificate shaped like S3's PrivateLink
// one, and writes the CA to a file for clients.
func testPKI(t *testing.T) (cert tls.Certificate, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "s3dns test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "s3." + region + ".amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{
			"s3." + region + ".amazonaws.com", "*.s3." + region + ".amazonaws.com",
			"s3.dualstack." + region + ".amazonaws.com", "*.s3.dualstack." + region + ".amazonaws.com",
			"*.s3-accesspoint." + region + ".amazonaws.com",
			endpointName, "*." + endpointName,
		}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

// startPublicDNS answers as public DNS would: the endpoint's regional name
// (and its zonal forms) with the interface addresses, every other
// amazonaws.com name with public S3's address; no IPv6. Endpoint names
// with "vpce-broken" get SERVFAIL: an endpoint that cannot be resolved.
func startPublicDNS(t *testing.T) {
	t.Helper()
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		resp.RecursionAvailable = true
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case !strings.HasSuffix(name, ".amazonaws.com."):
			resp.Rcode = dns.RcodeNameError
		case strings.Contains(name, "vpce-broken"): // an endpoint name that cannot be resolved
			resp.Rcode = dns.RcodeServerFailure
		case q.Qtype != dns.TypeA:
			resp.Ns = []dns.RR{mustRR(t, "amazonaws.com. 60 IN SOA ns.amazonaws.com. hostmaster.amazonaws.com. 1 60 60 60 60")}
		case strings.HasSuffix(name, endpointName+"."):
			for _, a := range interfaceAddrs {
				resp.Answer = append(resp.Answer, mustRR(t, q.Name+" 60 IN A "+a))
			}
		default:
			resp.Answer = append(resp.Answer, mustRR(t, q.Name+" 60 IN A "+publicS3Addr))
		}
		_ = w.WriteMsg(resp)
	})
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: worldDNS, Net: network, Handler: handler}
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := srv.ListenAndServe(); err != nil {
				t.Errorf("public DNS: %v", err)
				close(started)
			}
		}()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
}

func mustRR(t *testing.T, s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// enterWorld sets up the namespace the test process runs in: lo up with the
// test addresses, and resolv.conf, hosts and nsswitch.conf that send every
// lookup to s3dns. The namespace is the process's own (unshare), so none of
// this is seen outside it.
func enterWorld(t *testing.T, nameserver string) {
	t.Helper()
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("ip", "link", "set", "lo", "up")
	// The nameserver too: BIND binds only addresses configured on an interface.
	for _, a := range append([]string{publicS3Addr, nameserver}, interfaceAddrs...) {
		run("ip", "addr", "add", a+"/32", "dev", "lo")
	}
	dir := t.TempDir()
	for file, content := range map[string]string{
		"/etc/resolv.conf":   "nameserver " + nameserver + "\noptions timeout:2 attempts:1\n",
		"/etc/hosts":         "127.0.0.1 localhost\n",
		"/etc/nsswitch.conf": "hosts: files dns\n",
	} {
		own := filepath.Join(dir, filepath.Base(file))
		if err := os.WriteFile(own, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		run("mount", "--bind", own, file)
	}
}
