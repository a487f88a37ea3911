// Package integration runs the built s3dns binary against real clients (dig
// and a Go client) and a fake upstream on loopback.
package integration

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

var binary string

func TestMain(m *testing.M) {
	// Re-run inside a namespace (s3clients_test.go), the binary is built already.
	if b := os.Getenv(binaryEnv); b != "" {
		binary = b
		os.Exit(dnstest.RunTests(m))
	}
	flag.Parse()
	if testing.Short() {
		// go test -short: the package's own checks only (the README, the
		// deployment files); nothing is built and no outside tool is run.
		os.Exit(dnstest.RunTests(m))
	}
	dir, err := os.MkdirTemp("", "s3dns-integration")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "s3dns")
	build := exec.Command("go", "build", "-o", binary, "../cmd/s3dns")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building s3dns:", err)
		os.Exit(1)
	}
	code := dnstest.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// builtBinary is the s3dns binary the tests run; with -short, where it is
// not built, the test is skipped.
func builtBinary(t *testing.T) string {
	t.Helper()
	skipShort(t)
	return binary
}

// skipShort skips a test that needs the built binary or an outside tool
// under go test -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs the built binary or an outside tool; go test ./... (and CI) runs it")
	}
}

// requireTool finds a tool the test needs; in CI (CI=true) a missing tool
// fails the test, elsewhere it skips with the reason.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	skipShort(t)
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI (install Debian's %s; .ci/run does)", name, pkg)
	}
	t.Skipf("skipping: %s not installed (apt-get install %s); CI runs this test", name, pkg)
	return ""
}

type process struct {
	cmd    *exec.Cmd
	dns    string
	http   string
	stderr *dnstest.SyncBuffer
	exited chan error
}

// startBinary runs `s3dns serve` with args and waits until /readyz says 200.
func startBinary(t *testing.T, dnsAddr, httpAddr string, args ...string) *process {
	t.Helper()
	return startBinaryWithEnv(t, nil, dnsAddr, httpAddr, args...)
}

// startBinaryWithEnv is startBinary with env added to the environment.
func startBinaryWithEnv(t *testing.T, env []string, dnsAddr, httpAddr string, args ...string) *process {
	t.Helper()
	args = append([]string{"serve", "--listen", dnsAddr, "--http-listen", httpAddr}, args...)
	p := &process{cmd: exec.Command(builtBinary(t), args...), dns: dnsAddr, http: httpAddr, stderr: &dnstest.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	p.cmd.Env = append(append(os.Environ(), "S3DNS_LOG_LEVEL=debug"), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("s3dns stderr:\n%s", p.stderr)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := p.get("/readyz"); code == http.StatusOK {
			return p
		}
		select {
		case err := <-p.exited:
			t.Fatalf("s3dns exited: %v\n%s", err, p.stderr)
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatalf("s3dns not ready:\n%s", p.stderr)
	return nil
}

func (p *process) get(path string) (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.http + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop sends sig and returns the exit code.
func (p *process) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("s3dns did not exit")
	}
	return p.cmd.ProcessState.ExitCode()
}

// dig runs dig against the server and returns its output.
func dig(t *testing.T, digPath, server string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(server, ":")
	all := append([]string{"@" + host, "-p", port, "+tries=1", "+time=5"}, args...)
	out, err := exec.Command(digPath, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", all, err, out)
	}
	return string(out)
}

// repoFile is the absolute path of a file in the repository.
func repoFile(name string) string {
	p, err := filepath.Abs(filepath.Join("..", name))
	if err != nil {
		panic(err)
	}
	return p
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
