package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/s3dns/s3dns/internal/dnstest"
)

func TestSmokeScript(t *testing.T) {
	t.Parallel()
	requireTool(t, "dig", "dnsutils")
	up := publicDNS(t)
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", repoFile("s3dns.yaml"), "--upstream", up.Addr)
	out, err := exec.Command("./smoke.sh", p.dns, "eu-west-2", "myspecificbucket", "otherbucket").CombinedOutput()
	if err != nil || strings.Contains(string(out), "FAIL") || strings.Count(string(out), "PASS") != 7 {
		t.Fatalf("smoke.sh: %v\n%s", err, out)
	}
	// It must be able to fail: a bucket that is not listed is no endpoint answer.
	out, err = exec.Command("./smoke.sh", p.dns, "eu-west-2", "otherbucket").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FAIL listed bucket") {
		t.Fatalf("smoke.sh passed for an unlisted bucket:\n%s", out)
	}
	// Nothing listening: every check fails, none passes (issue 31, item 11).
	out, err = exec.Command("./smoke.sh", dnstest.FreeAddr(t), "eu-west-2", "myspecificbucket", "otherbucket").CombinedOutput()
	if err == nil || strings.Contains(string(out), "PASS") {
		t.Fatalf("smoke.sh against nothing listening:\n%s", out)
	}
}
