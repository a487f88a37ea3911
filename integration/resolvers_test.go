package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// resolver is a real BIND or Unbound started by a test on loopback.
type resolver struct {
	addr string
	log  *dnstest.SyncBuffer
}

// runDaemon starts a resolver in the foreground and waits until it answers.
func runDaemon(t *testing.T, addr string, name string, args ...string) *resolver {
	t.Helper()
	r := &resolver{addr: addr, log: &dnstest.SyncBuffer{}}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, r.log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion("localhost.", dns.TypeA)
		if _, _, err := (&dns.Client{Timeout: 300 * time.Millisecond}).Exchange(m, addr); err == nil {
			return r
		}
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, r.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not start:\n%s", name, r.log)
	return nil
}

func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	ap := mustAddrPort(t, addr)
	return ap.Addr().String(), fmt.Sprint(ap.Port())
}

// startNamed runs BIND 9 recursing through the fake public DNS, with extra
// named.conf text (zones, policy); the whole file must pass named-checkconf.
func startNamed(t *testing.T, public string, options, extra string) *resolver {
	t.Helper()
	return startNamedAt(t, dnstest.FreeAddr(t), public, options, extra)
}

// startNamedAt is startNamed listening on addr.
func startNamedAt(t *testing.T, addr, public string, options, extra string) *resolver {
	t.Helper()
	requireTool(t, "named", "bind9")
	checkconf := requireTool(t, "named-checkconf", "bind9-utils")
	dir := t.TempDir()
	host, port := hostPort(t, addr)
	pubHost, pubPort := hostPort(t, public)
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[3]s { %[2]s; };
	listen-on-v6 { none; };
	recursion yes;
	allow-query { any; };
	allow-recursion { any; };
	dnssec-validation no;
	qname-minimization off;
	forwarders { %[4]s port %[5]s; };
	forward only;
	%[6]s
};
%[7]s
`, dir, host, port, pubHost, pubPort, options, extra)
	file := writeChecked(t, filepath.Join(dir, "named.conf"), conf, checkconf)
	return runDaemon(t, addr, "named", "-g", "-c", file, "-n", "1")
}

// startUnbound runs Unbound with 0x20 on, its default upstream the fake
// public DNS, and extra unbound.conf text; it must pass unbound-checkconf.
func startUnbound(t *testing.T, public string, serverExtra, extra string) *resolver {
	t.Helper()
	return startUnboundAt(t, dnstest.FreeAddr(t), public, serverExtra, extra)
}

// startUnboundAt is startUnbound listening on addr.
func startUnboundAt(t *testing.T, addr, public string, serverExtra, extra string) *resolver {
	t.Helper()
	requireTool(t, "unbound", "unbound")
	checkconf := requireTool(t, "unbound-checkconf", "unbound")
	dir := t.TempDir()
	host, port := hostPort(t, addr)
	pubHost, pubPort := hostPort(t, public)
	conf := fmt.Sprintf(`server:
	interface: %[2]s
	port: %[3]s
	do-ip6: no
	username: ""
	chroot: ""
	directory: "%[1]s"
	pidfile: "%[1]s/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	qname-minimisation: no
	use-caps-for-id: yes
	private-address: 10.0.0.0/8
	private-address: 172.16.0.0/12
	private-address: 192.168.0.0/16
	private-address: fd00::/8
%[6]s
forward-zone:
	name: "."
	forward-addr: %[4]s@%[5]s
%[7]s
`, dir, host, port, pubHost, pubPort, indent(serverExtra), extra)
	file := writeChecked(t, filepath.Join(dir, "unbound.conf"), conf, checkconf)
	return runDaemon(t, addr, "unbound", "-d", "-c", file)
}

// writeChecked writes a resolver's configuration and fails the test unless
// the resolver's own checker accepts it.
func writeChecked(t *testing.T, file, conf, checker string) string {
	t.Helper()
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(checker, file).CombinedOutput(); err != nil {
		t.Fatalf("%s rejects:\n%s\n%s", filepath.Base(checker), out, conf)
	}
	return file
}

// indent keeps server: lines inside the server clause.
func indent(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" && strings.TrimSpace(l) != "server:" {
			out = append(out, "\t"+strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n")
}

// export runs `s3dns export` and returns its output.
func export(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(builtBinary(t), append([]string{"export"}, args...)...).Output()
	if err != nil {
		t.Fatalf("export %v: %v", args, err)
	}
	return string(out)
}

// splitUnbound separates the server: lines of an Unbound export from its zones.
func splitUnbound(s string) (server, zones string) {
	i := strings.Index(s, "\nforward-zone:")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// addrs returns the A and AAAA addresses in an answer, in order.
func addrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		}
	}
	return out
}

func ask(t *testing.T, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	resp, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(m, server)
	if err != nil {
		t.Fatalf("asking %s for %s: %v", server, name, err)
	}
	return resp
}
