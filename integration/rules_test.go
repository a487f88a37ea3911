package integration

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The shipped alert rules are valid and do what they say: promtool checks
// them, and its unit tests fire each alert on a series that should fire it
// and not on one that should not.
func TestAlertRules(t *testing.T) {
	t.Parallel()
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

var runbookURL = regexp.MustCompile(`runbook_url: "https://github.com/s3dns/s3dns/blob/main/docs/runbook.md#([a-z0-9-]+)"`)

// Every shipped alert links to its own section of docs/runbook.md.
func TestAlertsHaveRunbookSections(t *testing.T) {
	t.Parallel()
	rules, err := os.ReadFile(repoFile("deploy/prometheus/s3dns.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	runbook, err := os.ReadFile(repoFile("docs/runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, line := range strings.Split(string(runbook), "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			sections[strings.ToLower(title)] = true
		}
	}
	alerts := regexp.MustCompile(`- alert: (\S+)`).FindAllStringSubmatch(string(rules), -1)
	links := runbookURL.FindAllStringSubmatch(string(rules), -1)
	if len(links) != len(alerts) {
		t.Fatalf("%d alerts, %d runbook_url annotations", len(alerts), len(links))
	}
	for i, a := range alerts {
		if anchor := links[i][1]; anchor != strings.ToLower(a[1]) || !sections[anchor] {
			t.Errorf("alert %s links to #%s; docs/runbook.md has a section for it: %v", a[1], anchor, sections[strings.ToLower(a[1])])
		}
	}
}
