package integration

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// The demo (issue 31, item 12) runs s3dns with a fake public DNS and a fake
// EC2 API on loopback, prints the commands to try, and they work as
// printed: dig gets the discovered endpoint for a listed bucket, the
// discover line lists the endpoints; then it stops cleanly.
func TestDemoRunsAsPrinted(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	demo := filepath.Join(t.TempDir(), "s3dns-demo")
	if out, err := exec.Command("go", "build", "-o", demo, "../cmd/s3dns-demo").CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, out)
	}
	// A port picked free a moment ago can be taken before the demo binds
	// it (the integration tests run side by side): a start that fails is
	// tried again on other ports, and every failure's output is kept.
	var cmd *exec.Cmd
	var dnsAddr string
	var printed strings.Builder
	var failures []string
	for attempt := 0; attempt < 3 && cmd == nil; attempt++ {
		dnsAddr = dnstest.FreeAddr(t)
		c := exec.Command(demo, "--listen", dnsAddr, "--http", dnstest.FreeAddr(t), "--for", "30s")
		var stderr dnstest.SyncBuffer
		c.Stderr = &stderr
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		printed.Reset()
		lines := bufio.NewScanner(stdout)
		for lines.Scan() && !strings.HasPrefix(lines.Text(), "Ctrl-C") {
			printed.WriteString(lines.Text() + "\n")
		}
		if strings.Contains(printed.String(), "Try:") {
			cmd = c
			break
		}
		_ = c.Wait()
		failures = append(failures, printed.String()+stderr.String())
	}
	if cmd == nil {
		t.Fatalf("the demo did not start:\n%s", strings.Join(failures, "\n---\n"))
	}
	defer cmd.Process.Kill()
	if out := dig(t, digPath, dnsAddr, "+short", listedName, "A"); !strings.Contains(out, "10.20.1.10") || !strings.Contains(out, "10.20.2.10") {
		t.Errorf("listed bucket through the demo:\n%s", out)
	}
	if out := dig(t, digPath, dnsAddr, "+short", unlistedName, "A"); strings.TrimSpace(out) != "192.0.2.80" {
		t.Errorf("unlisted bucket through the demo: %q", out)
	}
	// The discover line, as printed, with the built binary for go run.
	m := regexp.MustCompile(`\n  ((?:AWS_\S+=\S+ )+)go run ./cmd/s3dns discover --endpoint-url (\S+)`).FindStringSubmatch(printed.String())
	if m == nil {
		t.Fatalf("no discover line in:\n%s", printed.String())
	}
	discover := exec.Command(builtBinary(t), "discover", "--endpoint-url", m[2])
	discover.Env = append(discover.Env, "PATH=/usr/bin:/bin")
	discover.Env = append(discover.Env, strings.Fields(m[1])...)
	out, err := discover.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "vpc_endpoint_id: vpce-0a1b2c3d4e5f67890") {
		t.Errorf("the printed discover: %v\n%s", err, out)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the demo did not stop cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("the demo did not stop")
	}
}
