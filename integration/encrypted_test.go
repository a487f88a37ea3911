package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/s3dns/s3dns/internal/dnstest"
)

// The built binary's DoT and DoH listeners, with real clients: kdig +tls
// and +https (knot-dnsutils), dig +tls and +https (BIND 9.18), and curl
// resolving a listed bucket through DoH and reaching the endpoint (a local
// HTTP server on 127.0.0.1) with it. The certificate is made by the test.
func TestEncryptedListenersWithRealClients(t *testing.T) {
	t.Parallel()
	kdig := requireTool(t, "kdig", "knot-dnsutils")
	digPath := requireTool(t, "dig", "dnsutils")
	curl := requireTool(t, "curl", "curl")
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1", "dns.example")
	const vpceLocal = "vpce-local.s3.eu-west-2.vpce.amazonaws.com."
	up := dnstest.NewUpstream(t, vpceLocal+" 60 IN A 127.0.0.1")
	dot, doh := dnstest.FreeAddr(t), dnstest.FreeAddr(t)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	text := fmt.Sprintf(`upstreams: [%q]
listen_tls: [%q]
listen_https: [%q]
tls: {cert_file: %q, key_file: %q}
endpoints:
  - {region: eu-west-2, hostname: %s, buckets: [listed-bucket]}
`, up.Addr, dot, doh, cert, key, vpceLocal)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	waitListening(t, doh)
	const name = "listed-bucket.s3.eu-west-2.amazonaws.com"
	dotHost, dotPort, _ := net.SplitHostPort(dot)
	dohHost, dohPort, _ := net.SplitHostPort(doh)
	for _, c := range []struct {
		tool string
		args []string
	}{
		{kdig, []string{"@" + dotHost, "-p", dotPort, "+tls-ca=" + pki.CAFile, "+tls-hostname=dns.example", name, "A"}},
		{kdig, []string{"@" + dohHost, "-p", dohPort, "+https", "+tls-ca=" + pki.CAFile, "+tls-hostname=dns.example", name, "A"}},
	} {
		out, err := exec.Command(c.tool, c.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "CNAME\t"+vpceLocal) || !strings.Contains(string(out), "127.0.0.1") {
			t.Errorf("%s %v: %v\n%s", filepath.Base(c.tool), c.args, err, out)
		}
	}
	// kdig pads its DoT queries by default (RFC 8467): the reply is padded too.
	padded, err := exec.Command(kdig, "@"+dotHost, "-p", dotPort, "+tls-ca="+pki.CAFile, "+tls-hostname=dns.example", "+padding", name, "A").CombinedOutput()
	if err != nil || !regexp.MustCompile(`PADDING: \d+ B`).Match(padded) || !regexp.MustCompile(`Received (468|936) B`).Match(padded) {
		t.Errorf("kdig +tls +padding: the reply is not padded to a multiple of 468 octets: %v\n%s", err, padded)
	}
	// dig's +tls and +https verify with +tls-ca (BIND 9.18).
	for _, args := range [][]string{
		{"+tls", "+tls-ca=" + pki.CAFile, "+tls-hostname=dns.example", name},
	} {
		out := dig(t, digPath, dot, args...)
		if !strings.Contains(out, vpceLocal) {
			t.Errorf("dig %v:\n%s", args, out)
		}
	}
	out := dig(t, digPath, doh, "+https", "+tls-ca="+pki.CAFile, "+tls-hostname=dns.example", name)
	if !strings.Contains(out, vpceLocal) {
		t.Errorf("dig +https:\n%s", out)
	}

	// curl resolves the bucket through DoH and reaches the endpoint's
	// address (127.0.0.1, a local server standing in for it).
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "endpoint reached for %s", r.Host)
	}))
	defer endpoint.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(endpoint.URL, "http://"))
	body, err := exec.Command(curl, "-sS", "--max-time", "10", "--doh-url", "https://"+doh+"/dns-query", "--cacert", pki.CAFile,
		"http://"+name+":"+port+"/").CombinedOutput()
	if err != nil || !strings.Contains(string(body), "endpoint reached for "+name) {
		t.Errorf("curl --doh-url: %v\n%s", err, body)
	}
}

// waitListening waits until addr accepts TCP connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	dnstest.WaitFor(t, addr+" to listen", 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// A renewed certificate written over the old one is taken by new
// connections without a restart or SIGHUP (the files are watched), and an
// expired one written next is refused, the renewed one staying.
func TestCertificateRenewalTakenOnWrite(t *testing.T) {
	t.Parallel()
	skipShort(t)
	pki := dnstest.NewPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	place := func(notAfter time.Time) {
		c, k := pki.Server(t, notAfter, "127.0.0.1")
		for from, to := range map[string]string{c: certFile, k: keyFile} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to+".new", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(to+".new", to); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	place(first)
	dot := dnstest.FreeAddr(t)
	file := filepath.Join(dir, "s3dns.yaml")
	text := fmt.Sprintf("upstreams: [\"127.0.0.1:9\"]\nlisten_tls: [%q]\ntls: {cert_file: %q, key_file: %q}\n"+
		"endpoints: [{region: eu-west-2, addresses: [10.0.0.1], buckets: [rotating]}]\n", dot, certFile, keyFile)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	waitListening(t, dot)
	expiry := func() time.Time {
		c, err := tls.Dial("tcp", dot, &tls.Config{RootCAs: pki.Pool()})
		if err != nil {
			return time.Time{}
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].NotAfter
	}
	if got := expiry(); !got.Equal(first) {
		t.Fatalf("certificate expiring %v, want %v", got, first)
	}
	// Under load while it is renewed: queries on a kept connection and on
	// new ones, none lost, until the new certificate is served.
	stop := make(chan struct{})
	loadDone := make(chan [2]int)
	go func() { loadDone <- dotLoad(dot, pki.Pool(), stop) }()
	renewed := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	place(renewed)
	dnstest.WaitFor(t, "the renewed certificate in use", 10*time.Second, func() bool { return expiry().Equal(renewed) })
	close(stop)
	n := <-loadDone
	t.Logf("during the renewal: %d queries answered, %d failed", n[0], n[1])
	if n[0] == 0 || n[1] != 0 {
		t.Errorf("during the renewal: %d queries answered, %d failed; want some and none", n[0], n[1])
	}
	place(time.Now().Add(-time.Hour))
	dnstest.WaitFor(t, "the expired certificate refused in the log", 10*time.Second, func() bool {
		return strings.Contains(p.stderr.String(), "TLS certificate not reloaded")
	})
	if got := expiry(); !got.Equal(renewed) {
		t.Fatalf("after an expired certificate was written: %v, want the renewed one's %v", got, renewed)
	}
}

// dotLoad asks for rotating.s3.eu-west-2.amazonaws.com over DoT until stop, on
// one kept connection and every tenth query on a new one (a new
// handshake), and returns how many were answered and how many failed.
// Bounded: at most 20,000 queries.
func dotLoad(addr string, roots *x509.CertPool, stop <-chan struct{}) [2]int {
	client := &dns.Client{Net: "tcp-tls", Timeout: 2 * time.Second, TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	q := new(dns.Msg)
	q.SetQuestion("rotating.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	var kept *dns.Conn
	var n [2]int
	for i := 0; i < 20000; i++ {
		select {
		case <-stop:
			if kept != nil {
				kept.Close()
			}
			return n
		default:
		}
		conn, fresh := kept, kept == nil || i%10 == 0
		if fresh {
			c, err := client.Dial(addr)
			if err != nil {
				n[1]++
				continue
			}
			conn = c
			if kept == nil {
				kept, fresh = c, false
			}
		}
		if resp, _, err := client.ExchangeWithConn(q, conn); err != nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
			n[1]++
		} else {
			n[0]++
		}
		if fresh {
			conn.Close()
		}
	}
	return n
}

// Unbound forwards the S3 zone to s3dns over DNS over TLS, configured by
// s3dns export --tls-name (forward-tls-upstream, the name after #, the CA
// as tls-cert-bundle), and its clients get the endpoint's answer.
func TestUnboundForwardsOverTLS(t *testing.T) {
	t.Parallel()
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "dns.example")
	const vpceLocal = "vpce-tls.s3.eu-west-2.vpce.amazonaws.com."
	public := dnstest.NewUpstream(t, vpceLocal+" 60 IN A 10.0.9.10", "listed-bucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.9")
	dot := dnstest.FreeAddr(t)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	text := fmt.Sprintf(`upstreams: [%q]
listen_tls: [%q]
tls: {cert_file: %q, key_file: %q}
endpoints:
  - {region: eu-west-2, hostname: %s, buckets: [listed-bucket]}
`, public.Addr, dot, cert, key, vpceLocal)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	waitListening(t, dot)
	out := export(t, "--format", "unbound", "--config", file, "--server", dot, "--tls-name", "dns.example", "--tls-ca", pki.CAFile)
	for _, want := range []string{"forward-tls-upstream: yes", "@" + strings.Split(dot, ":")[1] + "#dns.example", `tls-cert-bundle: "` + pki.CAFile + `"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("export lacks %q:\n%s", want, out)
		}
	}
	server, zones := splitUnbound(out)
	unbound := startUnbound(t, public.Addr, server, zones)
	resp := ask(t, unbound.addr, "listed-bucket.s3.eu-west-2.amazonaws.com.", dns.TypeA)
	if len(resp.Answer) == 0 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME || !slices.Contains(addrs(resp), "10.0.9.10") {
		t.Fatalf("through Unbound over DoT: %v", resp)
	}
}

// s3dns forwards to Unbound's DNS over TLS listener (a tls:// upstream,
// verified for its name against tls.upstream_ca_file): an unlisted name
// is answered through it.
func TestDoTUpstreamThroughUnbound(t *testing.T) {
	t.Parallel()
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "unbound.example")
	public := dnstest.NewUpstream(t, "unlisted.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.77")
	dot := dnstest.FreeAddr(t)
	host, port, _ := net.SplitHostPort(dot)
	unbound := startUnbound(t, public.Addr, fmt.Sprintf("interface: %s@%s\ntls-port: %s\ntls-service-key: %q\ntls-service-pem: %q\n",
		host, port, port, key, cert), "")
	_ = unbound
	waitListening(t, dot)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	text := fmt.Sprintf(`upstreams: ["tls://%s#unbound.example"]
tls: {upstream_ca_file: %q}
endpoints:
  - {region: eu-west-2, hostname: %s, buckets: [listed-bucket]}
`, dot, pki.CAFile, sampleVPCE)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	if got := addrs(ask(t, p.dns, "unlisted.s3.eu-west-2.amazonaws.com.", dns.TypeA)); !slices.Equal(got, []string{"192.0.2.77"}) {
		t.Fatalf("through Unbound over DoT: %v\n%s", got, p.stderr)
	}
}
