package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The pre-remove script stops and disables the service when the package
// is removed, and leaves it alone on an upgrade (issue 31, item 9), for
// dpkg's and rpm's ways of saying which.
func TestPreRemoveStopsOnlyOnRemoval(t *testing.T) {
	t.Parallel()
	for arg, wantCalls := range map[string]string{
		"remove": "stop s3dns\ndisable s3dns\n", "0": "stop s3dns\ndisable s3dns\n",
		"upgrade": "", "1": "", "failed-upgrade": "",
	} {
		dir := t.TempDir()
		log := filepath.Join(dir, "calls")
		fake := "#!/bin/sh\necho \"$@\" >>" + log + "\n"
		if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", repoFile("packaging/preremove.sh"), arg)
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "S3DNS_SYSTEMD_DIR=" + dir}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("preremove %s: %v\n%s", arg, err, out)
		}
		calls, _ := os.ReadFile(log)
		if string(calls) != wantCalls {
			t.Errorf("preremove %s: systemctl %q, want %q", arg, calls, wantCalls)
		}
	}
}

// Without a tag the release script builds X.Y.Z-dev+<commit> from
// CHANGELOG.md's newest release, a version dpkg and rpm accept.
func TestReleaseVersionWithoutATag(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(repoFile("scripts/release.sh"), "--version-only").Output()
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(out))
	changelog, _ := os.ReadFile(repoFile("CHANGELOG.md"))
	released := regexp.MustCompile(`(?m)^## \[([0-9.]+)\]`).FindSubmatch(changelog)
	if released == nil {
		t.Fatal("CHANGELOG.md names no release")
	}
	if tagged := exec.Command("git", "describe", "--tags", "--exact-match").Run() == nil; tagged {
		t.Skipf("this commit is tagged: the release is %s", version)
	}
	if !regexp.MustCompile(`^v` + regexp.QuoteMeta(string(released[1])) + `-dev\+[0-9a-f]{12}$`).MatchString(version) {
		t.Fatalf("version %q, want v%s-dev+<commit>", version, released[1])
	}
	if dpkg, err := exec.LookPath("dpkg"); err == nil {
		deb := strings.TrimPrefix(version, "v")
		if out, err := exec.Command(dpkg, "--compare-versions", deb, "gt", string(released[1])+"~").CombinedOutput(); err != nil {
			t.Errorf("dpkg does not take %q: %v %s", deb, err, out)
		}
	}
}
