package integration

import (
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// A dig session recorded with dnstap to a file, decoded by BIND's
// dnstap-read and by dnstap-ldns: every query and response is there, with
// its type, transport, addresses and wire data.
func TestDnstapFileDecodedByRealReaders(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	dnstapRead := requireTool(t, "dnstap-read", "bind9-dnsutils")
	dnstapLdns := requireTool(t, "dnstap-ldns", "dnstap-ldns")
	file := filepath.Join(t.TempDir(), "s3dns.dnstap")
	s := s3dnsFor(t, publicDNS(t).Addr, []endpoint{listedEndpoint}, "--dnstap-file", file, "--dnstap-identity", "s3dns-test")
	dig(t, digPath, s.dns, listedName)
	dig(t, digPath, s.dns, "+tcp", unlistedName)
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}
	host, port, _ := net.SplitHostPort(s.dns)

	out, err := exec.Command(dnstapRead, "-y", file).CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-read: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"type: CLIENT_QUERY", "type: CLIENT_RESPONSE", "type: FORWARDER_QUERY", "type: FORWARDER_RESPONSE",
		"identity: s3dns-test", "socket_protocol: UDP", "socket_protocol: TCP", `response_address: "` + host + `"`, "response_port: " + port,
		`query_address: "127.0.0.1"`} {
		if !strings.Contains(text, want) {
			t.Errorf("dnstap-read output lacks %q", want)
		}
	}
	// The wire data decodes to the session's questions and answers.
	for _, re := range []string{
		`(?s)CLIENT_RESPONSE.*?` + regexp.QuoteMeta(listedName) + `\.\s+60\s+IN\s+CNAME\s+` + regexp.QuoteMeta(sampleVPCE),
		`(?s)CLIENT_RESPONSE.*?` + regexp.QuoteMeta(unlistedName) + `\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80`,
		`(?s)FORWARDER_QUERY.*?` + regexp.QuoteMeta(sampleVPCE) + `\s+IN\s+A`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("dnstap-read output does not match %s", re)
		}
	}
	if t.Failed() {
		t.Logf("dnstap-read -y:\n%s", text)
	}
	if n := strings.Count(text, "type: CLIENT_QUERY"); n != 2 {
		t.Errorf("%d client queries recorded, dig sent 2", n)
	}

	out, err = exec.Command(dnstapLdns, "-r", file, "-y").CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-ldns: %v\n%s", err, out)
	}
	for _, want := range []string{"CLIENT_QUERY", "CLIENT_RESPONSE", "FORWARDER_RESPONSE", listedName, unlistedName} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dnstap-ldns output lacks %q:\n%s", want, out)
		}
	}
}

// A Unix-socket collector that accepts and never reads costs no DNS
// answer: queries keep being answered and the dropped messages are counted.
func TestDnstapStalledCollector(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	dnstest.Stalled(t, "unix", sock)
	s := s3dnsFor(t, publicDNS(t).Addr, []endpoint{listedEndpoint}, "--dnstap-socket", sock)
	client := &dns.Client{Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(listedName), dns.TypeA)
	// Two messages per query: enough to fill the 10,000-message buffer.
	for i := range 6000 {
		resp, _, err := client.Exchange(m, s.dns)
		if err != nil || len(resp.Answer) != 3 {
			t.Fatalf("query %d with a stalled collector: %v %v", i, resp, err)
		}
	}
	_, metrics := s.get("/metrics")
	match := regexp.MustCompile(`(?m)^s3dns_dnstap_dropped_total (\d+)`).FindStringSubmatch(metrics)
	if match == nil {
		t.Fatalf("no s3dns_dnstap_dropped_total in:\n%s", metrics)
	}
	if n, _ := strconv.Atoi(match[1]); n == 0 {
		t.Fatal("no dnstap message counted as dropped")
	}
}

// A reload switches dnstap on, to another output, and off.
func TestDnstapReload(t *testing.T) {
	t.Parallel()
	dnstapRead := requireTool(t, "dnstap-read", "bind9-dnsutils")
	up := publicDNS(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	write := func(dnstap map[string]any) {
		writeConfigTo(t, file, fileConfig{Upstreams: []string{up.Addr}, Dnstap: dnstap, Endpoints: []endpoint{listedEndpoint}})
	}
	reloads := func(p *process) int {
		_, m := p.get("/metrics")
		n, _ := strconv.Atoi(regexpFind(`(?m)^s3dns_config_reloads_total\{result="success"\} (\d+)`, m))
		return n
	}
	write(nil)
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	names := []string{"one.example.", "two.example.", "three.example."}
	outputs := []map[string]any{{"file": filepath.Join(dir, "a.dnstap")}, {"file": filepath.Join(dir, "b.dnstap")}, nil}
	for i, out := range outputs {
		before := reloads(p)
		write(out)
		_ = p.cmd.Process.Signal(syscall.SIGHUP)
		deadline := time.Now().Add(10 * time.Second)
		for reloads(p) <= before {
			if time.Now().After(deadline) {
				t.Fatalf("reload %d not seen:\n%s", i, p.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		query(t, p.dns, names[i])
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for i, f := range []string{"a.dnstap", "b.dnstap"} {
		out, err := exec.Command(dnstapRead, filepath.Join(dir, f)).CombinedOutput()
		if err != nil {
			t.Fatalf("dnstap-read %s: %v\n%s", f, err, out)
		}
		for j, name := range names {
			if got := strings.Contains(string(out), strings.TrimSuffix(name, ".")); got != (i == j) {
				t.Errorf("%s: holds %s = %v, want %v:\n%s", f, name, got, i == j, out)
			}
		}
	}
}

func regexpFind(re, s string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}
