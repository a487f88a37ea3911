package integration

import (
	"os/exec"
	"testing"
)

// The shipped alert rules are valid and do what they say: promtool checks
// them, and its unit tests fire each alert on a series that should fire it
// and not on one that should not.
func TestAlertRules(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	dir := repoFile("deploy/prometheus")
	for _, args := range [][]string{{"check", "rules", "s3dns.rules.yaml"}, {"test", "rules", "s3dns.rules.test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
