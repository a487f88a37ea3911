package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func query(t *testing.T, server, name string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, server)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestMetricsHealthReloadAndTerm(t *testing.T) {
	t.Parallel()
	up := publicDNS(t)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	write := func(buckets ...string) {
		writeConfigTo(t, file, fileConfig{Upstreams: []string{up.Addr},
			Endpoints: []endpoint{{Region: "eu-west-2", Hostname: sampleVPCE, Buckets: buckets}}})
	}
	write("myspecificbucket")
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)

	query(t, p.dns, "myspecificbucket.s3.eu-west-2.amazonaws.com")
	query(t, p.dns, "otherbucket.s3.eu-west-2.amazonaws.com")
	query(t, p.dns, "otherbucket.s3.eu-west-2.amazonaws.com")

	if code, _ := p.get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	code, body := p.get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`s3dns_requests_total{action="endpoint",endpoint="s3-eu-west-2",proto="udp",qtype="A",transport="udp"} 1`,
		`s3dns_requests_total{action="forward",endpoint="",proto="udp",qtype="A",transport="udp"} 2`,
		`s3dns_responses_total{rcode="NOERROR"} 3`,
		`s3dns_cache_requests_total{result="hit"} 1`,
		`s3dns_upstream_requests_total{result="success",upstream="` + up.Addr + `"} `,
		`s3dns_cache_entries 2`,
		"s3dns_ready 1\n",
		"s3dns_forwarding_loop_detected 0\n",
		`s3dns_build_info{goversion="go`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The bucket list changes without a restart: SIGHUP.
	write("myspecificbucket", "otherbucket")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := query(t, p.dns, "otherbucket.s3.eu-west-2.amazonaws.com")
		if len(resp.Answer) > 0 && resp.Answer[0].Header().Rrtype == dns.TypeCNAME {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reload not applied:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, body := p.get("/metrics"); !strings.Contains(body, `s3dns_config_reloads_total{result="success"}`) {
		t.Error("no reload counted")
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	if !strings.Contains(p.stderr.String(), "stopped") {
		t.Errorf("no shutdown log:\n%s", p.stderr)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	up := publicDNS(t)
	httpAddr := dnstest.FreeAddr(t)
	check := func() int {
		cmd := exec.Command(builtBinary(t), "healthcheck", "--config", repoFile("s3dns.yaml"), "--http-listen", httpAddr)
		cmd.Run()
		return cmd.ProcessState.ExitCode()
	}
	if code := check(); code != 1 {
		t.Fatalf("healthcheck with no server: exit %d", code)
	}
	startBinary(t, dnstest.FreeAddr(t), httpAddr, "--config", repoFile("s3dns.yaml"), "--upstream", up.Addr)
	if code := check(); code != 0 {
		t.Fatalf("healthcheck with a ready server: exit %d", code)
	}
}

func TestForwardingLoopKeepsReadyzUnavailable(t *testing.T) {
	t.Parallel()
	dnsAddr, httpAddr := dnstest.FreeAddr(t), dnstest.FreeAddr(t)
	args := []string{"serve", "--config", repoFile("s3dns.yaml"), "--listen", dnsAddr, "--http-listen", httpAddr,
		"--upstream", dnsAddr, "--upstream-timeout", "500ms"}
	p := &process{cmd: exec.Command(builtBinary(t), args...), dns: dnsAddr, http: httpAddr, stderr: &dnstest.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	defer p.stop(t, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.stderr.String(), "forwarding loop detected") {
		if time.Now().After(deadline) {
			t.Fatalf("no loop reported:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := p.get("/readyz"); code != 503 || !strings.Contains(body, "forwarding loop") {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	// The gauges say what /readyz says.
	if _, body := p.get("/metrics"); !strings.Contains(body, "s3dns_ready 0\n") || !strings.Contains(body, "s3dns_forwarding_loop_detected 1\n") {
		t.Fatalf("readiness gauges during a loop:\n%s", grepLines(body, "s3dns_ready", "s3dns_forwarding_loop"))
	}
	if code, _ := p.get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
}

// grepLines keeps the lines of text that start with one of prefixes.
func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}
