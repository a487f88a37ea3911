package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1764892800")
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "s3dns.8"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH "S3DNS" "8" "Dec 2025"`, "--cache-max-entries", "s3dns-discover(8)",
		".SH FILES", ".SH ENVIRONMENT", ".SH SIGNALS", ".SH EXIT STATUS"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("s3dns.8 lacks %q", want)
		}
	}
	config, err := os.ReadFile(filepath.Join(dir, "s3dns.yaml.5"))
	if err != nil || !strings.Contains(string(config), `.TH "S3DNS.YAML" "5"`) || !strings.Contains(string(config), "http_admin_allow") {
		t.Errorf("s3dns.yaml.5: %v\n%s", err, config)
	}
	if _, err := os.Stat(filepath.Join(dir, "s3dns-discover.8")); err != nil {
		t.Error(err)
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("groff is required in CI (Debian's groff-base; .ci/run installs it)")
		}
		t.Skip("skipping the groff check: groff not installed (apt-get install groff-base); CI runs it")
	}
	// -ww: every warning but line breaking (long flag defaults); -z: no output.
	for _, page := range []string{"s3dns.8", "s3dns.yaml.5"} {
		out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-Wbreak", "-z", filepath.Join(dir, page)).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", page, err, out)
		}
	}
}
