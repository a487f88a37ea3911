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
	for _, want := range []string{"USER 65532", "HEALTHCHECK", `"healthcheck"`, "EXPOSE 53/udp 53/tcp 9153/tcp", "distroless/static"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
