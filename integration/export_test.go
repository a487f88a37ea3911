package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs the built binary in dir with only PATH set, returning its exit
// code and output.
func runIn(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH")}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errOut.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

// Without a configuration file, export has nothing to forward and says so
// (exit 1): loaded into BIND, an empty export would send every listed
// bucket public. validate and serve run on the defaults, loudly (issue 31,
// item 2).
func TestNoConfigurationFileIsLoud(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/etc/s3dns/s3dns.yaml"); err == nil {
		t.Skip("/etc/s3dns/s3dns.yaml exists on this host: the default search would find it")
	}
	dir := t.TempDir()
	code, stdout, stderr := runIn(t, dir, "export", "--format", "bind", "--server", "10.0.0.53")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no configuration file was found (tried s3dns.yaml, /etc/s3dns/s3dns.yaml)") ||
		!strings.Contains(stderr, "lists no endpoints") {
		t.Errorf("export without a file: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runIn(t, dir, "validate")
	if code != 0 || !strings.Contains(stderr, "NO CONFIGURATION FILE") || !strings.Contains(stdout, "configuration: NO FILE") {
		t.Errorf("validate without a file: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// With a file that lists no endpoints, export names the file.
	file := filepath.Join(dir, "s3dns.yaml")
	if err := os.WriteFile(file, []byte("upstreams: [127.0.0.1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr = runIn(t, dir, "export", "--format", "unbound", "--server", "10.0.0.53"); code != 1 ||
		!strings.Contains(stderr, "s3dns.yaml lists no endpoints") {
		t.Errorf("export of a file without endpoints: exit %d: %s", code, stderr)
	}
}

// Several instances and s3dns on loopback (issue 31, item 3): every
// --server is kept, and BIND's and Unbound's own checkers accept the files
// without a warning (Unbound's used to warn that it would not query
// localhost, and listed buckets then failed through it).
func TestExportForSeveralServersPassesCheckers(t *testing.T) {
	t.Parallel()
	namedCheck := requireTool(t, "named-checkconf", "bind9-utils")
	unboundCheck := requireTool(t, "unbound-checkconf", "unbound")
	cfg := writeConfig(t, fileConfig{Endpoints: []endpoint{listedEndpoint}})
	servers := []string{"--server", "127.0.0.1:5353", "--server", "127.0.0.2:5353,10.0.0.53"}
	dir := t.TempDir()

	bind := export(t, append([]string{"--format", "bind", "--config", cfg}, servers...)...)
	if !strings.Contains(bind, "forwarders { 127.0.0.1 port 5353; 127.0.0.2 port 5353; 10.0.0.53 port 53; };") {
		t.Errorf("BIND export lost a server:\n%s", bind)
	}
	writeChecked(t, filepath.Join(dir, "named.conf"), bind, namedCheck)

	unbound := export(t, append([]string{"--format", "unbound", "--config", cfg}, servers...)...)
	for _, want := range []string{"forward-addr: 127.0.0.1@5353\n\tforward-addr: 127.0.0.2@5353\n\tforward-addr: 10.0.0.53@53\n",
		"do-not-query-localhost: no"} {
		if !strings.Contains(unbound, want) {
			t.Errorf("Unbound export lacks %q:\n%s", want, unbound)
		}
	}
	file := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(file, []byte(unbound), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(unboundCheck, file).CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(out)), "warning") {
		t.Errorf("unbound-checkconf: %v\n%s", err, out)
	}
}

// A configuration with every name family of 2026 (S3 Express, a
// Multi-Region Access Point, S3 Tables, S3 Vectors under api.aws, S3 in
// China) exports forward zones for all of them, which BIND and Unbound
// accept, and an RPZ that BIND loads.
func TestExportEveryNameFamily(t *testing.T) {
	t.Parallel()
	namedCheck := requireTool(t, "named-checkconf", "bind9-utils")
	unboundCheck := requireTool(t, "unbound-checkconf", "unbound")
	zoneCheck := requireTool(t, "named-checkzone", "bind9-utils")
	cfg := repoFile("config/testdata/families.yaml")
	dir := t.TempDir()
	zonesWanted := []string{"s3express-control.us-east-1.amazonaws.com", "s3express-use1-az4.us-east-1.amazonaws.com",
		"accesspoint.s3-global.amazonaws.com", "s3tables.us-east-1.amazonaws.com", "s3vectors.us-east-1.api.aws",
		"s3.cn-north-1.amazonaws.com.cn"}

	bind := export(t, "--format", "bind", "--config", cfg, "--server", "10.0.0.53")
	unbound := export(t, "--format", "unbound", "--config", cfg, "--server", "10.0.0.53")
	for _, z := range zonesWanted {
		if !strings.Contains(bind, `zone "`+z+`"`) {
			t.Errorf("BIND export lacks zone %s:\n%s", z, bind)
		}
		if !strings.Contains(unbound, `name: "`+z+`."`) {
			t.Errorf("Unbound export lacks zone %s:\n%s", z, unbound)
		}
	}
	writeChecked(t, filepath.Join(dir, "named.conf"), bind, namedCheck)
	file := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(file, []byte(unbound), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(unboundCheck, file).CombinedOutput(); err != nil || strings.Contains(strings.ToLower(string(out)), "warning") {
		t.Errorf("unbound-checkconf: %v\n%s", err, out)
	}

	rpz := export(t, "--format", "rpz", "--config", cfg)
	for _, want := range []string{"analytics--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com", "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
		"s3express-control.us-east-1.amazonaws.com", `glob "tmp-*--x-s3" cannot be expressed`} {
		if !strings.Contains(rpz, want) {
			t.Errorf("RPZ lacks %q:\n%s", want, rpz)
		}
	}
	zoneFile := filepath.Join(dir, "rpz.zone")
	if err := os.WriteFile(zoneFile, []byte(rpz), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zoneCheck, "rpz.s3dns", zoneFile).CombinedOutput(); err != nil {
		t.Errorf("named-checkzone: %v\n%s", err, out)
	}
}
