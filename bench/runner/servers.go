package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// server is a DNS server under test, pinned to one CPU.
type server struct {
	name       string
	addr       string
	tls, https string // DoT and DoH listeners
	http       string
	cmd        *exec.Cmd
}

// addrFor is where dnsperf sends a workload of mode.
func (s *server) addrFor(mode string) string {
	switch mode {
	case "dot":
		return s.tls
	case "doh":
		return s.https
	}
	return s.addr
}

func freePort() (int, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port")
}

func twoPorts() (int, int, error) {
	a, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	b, err := freePort()
	return a, b, err
}

func fillTemplate(tmpl string, vars map[string]string) (string, error) {
	b, err := os.ReadFile(tmpl)
	if err != nil {
		return "", err
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s, nil
}

// startS3dns runs s3dns as name, with extra command-line flags.
func startS3dns(dir, bin, upstream, cpu, name string, extra ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	tlsPort, httpsPort, err := twoPorts()
	if err != nil {
		return nil, err
	}
	var buckets []string
	for i := range listedBuckets {
		buckets = append(buckets, fmt.Sprintf("bucket-%d", i))
	}
	if largeConfig {
		// The scale of issue 21: 100,000 exact buckets and 2,000 globs
		// besides the listed ones (which the workloads ask for), none of
		// them matching a workload's names before the listed ones do.
		for i := range 100_000 {
			buckets = append(buckets, fmt.Sprintf("scale-%06d", i))
		}
		for i := range 2000 {
			buckets = append(buckets, fmt.Sprintf(`"team-%04d-*"`, i))
		}
	}
	cert, key, err := benchCertificate(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := fillTemplate("bench/s3dns.yaml.tmpl", map[string]string{
		"PORT": strconv.Itoa(port), "HTTP": strconv.Itoa(httpPort), "UPSTREAM": upstream,
		"VPCE": vpce, "BUCKETS": strings.Join(buckets, ", "),
		"TLSPORT": strconv.Itoa(tlsPort), "HTTPSPORT": strconv.Itoa(httpsPort), "CERT": cert, "KEY": key,
	})
	if err != nil {
		return nil, err
	}
	// A directory of its own: s3dns watches its configuration's directory,
	// and the query files written beside it between runs would be events
	// for it to read (about 1 % of its CPU over a miss-heavy session).
	cfgDir := filepath.Join(dir, name+".config") // not dir/s3dns: bench/run.sh builds the binary there
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(cfgDir, name+".yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	s := &server{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), http: fmt.Sprintf("127.0.0.1:%d", httpPort),
		tls: fmt.Sprintf("127.0.0.1:%d", tlsPort), https: fmt.Sprintf("127.0.0.1:%d", httpsPort),
		cmd: exec.Command("taskset", append([]string{"-c", cpu, bin, "serve", "--config", file}, extra...)...)}
	if withSites {
		s.cmd.Env = append(os.Environ(), "S3DNS_SITES="+benchSites)
	}
	return s, s.start()
}

// largeConfig (-large) lists 100,000 more exact buckets and 2,000 globs.
var largeConfig bool

// withSites (-sites) gives s3dns three sites; dnsperf (127.0.0.1) is in the
// last, served by the endpoint as at the top level, so that every query
// takes the per-site path at its longest: two sites tried, then a match.
var withSites bool

const benchSites = `[{name: dc, clients: ["10.1.0.0/16", "10.11.0.0/16"], zone: eu-west-2a},
 {name: dr, clients: ["10.3.0.0/16"], public: true},
 {name: bench, clients: ["127.0.0.0/8"], endpoints: [{name: s3-eu-west-2}]}]`

func startUnbound(dir, upstream, cpu string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var local strings.Builder
	// A CNAME in a redirect zone is chased by the iterator (and the
	// target cached), as s3dns does; in a transparent zone it is not.
	for i := range listedBuckets {
		fmt.Fprintf(&local, "\tlocal-zone: \"%s.\" redirect\n", bucket(i))
		fmt.Fprintf(&local, "\tlocal-data: \"%s. 60 IN CNAME %s\"\n", bucket(i), vpce)
	}
	tlsPort, httpsPort, err := twoPorts()
	if err != nil {
		return nil, err
	}
	cert, key, err := benchCertificate(dir)
	if err != nil {
		return nil, err
	}
	host, upPort, _ := net.SplitHostPort(upstream)
	cfg, err := fillTemplate("bench/unbound.conf.tmpl", map[string]string{
		"PORT": strconv.Itoa(port), "DIR": dir, "UPSTREAM": host + "@" + upPort, "LOCALDATA": local.String(),
		"TLSPORT": strconv.Itoa(tlsPort), "HTTPSPORT": strconv.Itoa(httpsPort), "CERT": cert, "KEY": key,
	})
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	s := &server{name: "unbound", addr: fmt.Sprintf("127.0.0.1:%d", port),
		tls: fmt.Sprintf("127.0.0.1:%d", tlsPort), https: fmt.Sprintf("127.0.0.1:%d", httpsPort),
		cmd: exec.Command("taskset", "-c", cpu, "unbound", "-d", "-c", file)}
	return s, s.start()
}

func (s *server) start() error {
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion("localhost.", dns.TypeA)
		if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, s.addr); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("%s did not start", s.name)
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// checkAnswers makes sure both servers do the job before they are timed.
func (s *server) checkAnswers() error {
	ask := func(name string) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, s.addr)
		return r, err
	}
	r, err := ask(bucket(7) + ".")
	if err != nil {
		return err
	}
	if len(r.Answer) != 3 || r.Answer[0].Header().Rrtype != dns.TypeCNAME {
		return fmt.Errorf("listed bucket: %v", r.Answer)
	}
	r, err = ask("unlisted-1.s3.eu-west-2.amazonaws.com.")
	if err != nil {
		return err
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
		return fmt.Errorf("unlisted bucket: %v", r.Answer)
	}
	return nil
}

// cpuSeconds is the server's user+system CPU time so far.
func (s *server) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// rssMB is the server's resident memory.
func (s *server) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// pid is the server's own process: taskset execs it, so the PID is the same.
func (s *server) pid() int { return s.cmd.Process.Pid }

// benchCertificate writes a self-signed certificate for 127.0.0.1 into dir
// (once) for both servers' TLS and HTTPS listeners; dnsperf does not verify it.
func benchCertificate(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "bench-cert.pem"), filepath.Join(dir, "bench-key.pem")
	if _, err := os.Stat(keyFile); err == nil {
		return certFile, keyFile, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
