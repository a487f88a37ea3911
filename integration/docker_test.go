package integration

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildCommand runs the Dockerfile's own build line (no Docker
// engine exists here) and checks that the result is static, stamped, and runs.
func TestDockerfileBuildCommand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: skipping the Dockerfile's build command (10 s); go test ./... and CI run it")
	}
	df, err := os.ReadFile(repoFile("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^# build-command.*\nRUN (.+)$`).FindSubmatch(df)
	if m == nil {
		t.Fatal("no marked build command in the Dockerfile")
	}
	out := filepath.Join(t.TempDir(), "s3dns")
	line := strings.NewReplacer("${VERSION}", "v9.9.9-test", "${COMMIT}", "abc123", "/out/s3dns", out).Replace(string(m[1]))
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Fatalf("the binary needs %v", libs)
	}
	v, err := exec.Command(out, "version").Output()
	if err != nil || !strings.Contains(string(v), "s3dns v9.9.9-test (commit abc123") {
		t.Fatalf("version: %v %q", err, v)
	}
	for _, want := range []string{"USER 65532", "HEALTHCHECK", `"healthcheck"`, "EXPOSE 53/udp 53/tcp 9153/tcp", "distroless/static",
		"COPY deploy/container/s3dns.yaml /etc/s3dns/s3dns.yaml"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// The image's defaults rank below what an operator gives (issue 31, item
// 10): they are the image's file, not ENV (an S3DNS_* variable in the
// image would override a mounted file); a variable overrides one of them,
// and a mounted file replaces them whole.
func TestImageDefaultsRankBelowTheOperator(t *testing.T) {
	t.Parallel()
	df, err := os.ReadFile(repoFile("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(df), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "ENV" || strings.HasPrefix(f[0], "S3DNS_")) {
			t.Errorf("the Dockerfile sets %q: it would override a mounted file", line)
		}
	}
	image := repoFile("deploy/container/s3dns.yaml")
	out := validate(t, nil, "--config", image)
	if !strings.Contains(out, "listen: :53 ") || !strings.Contains(out, "http: :9153") {
		t.Errorf("the image's defaults:\n%s", out)
	}
	if out := validate(t, []string{"S3DNS_LISTEN=:5353"}, "--config", image); !strings.Contains(out, "listen: :5353 ") {
		t.Errorf("a variable does not override the image's default:\n%s", out)
	}
	mounted := writeConfig(t, fileConfig{Listen: []string{"0.0.0.0:5353"}, Upstreams: []string{"127.0.0.1"}})
	if out := validate(t, nil, "--config", mounted); !strings.Contains(out, "listen: 0.0.0.0:5353 ") {
		t.Errorf("a mounted file does not decide:\n%s", out)
	}
}
