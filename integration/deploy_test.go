package integration

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// validate runs `s3dns validate` in an empty directory with extra environment.
func validate(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(builtBinary(t), append([]string{"validate"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("s3dns validate %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestSystemdExample(t *testing.T) {
	t.Parallel()
	unit, err := os.ReadFile(repoFile("deploy/systemd/s3dns.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DynamicUser=yes", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/bin/s3dns serve --config /etc/s3dns/s3dns.yaml",
		// The README's dnstap socket and file live in these.
		"RuntimeDirectory=s3dns", "LogsDirectory=s3dns",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	out := validate(t, nil, "--config", repoFile("deploy/systemd/s3dns.yaml"))
	if !strings.Contains(out, "listen: 0.0.0.0:53, [::]:53") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	f, err := os.Open(repoFile("deploy/kubernetes/s3dns.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kinds := map[string]map[string]any{}
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kinds[doc["kind"].(string)] = doc
	}
	for _, k := range []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Service"} {
		if kinds[k] == nil {
			t.Fatalf("no %s", k)
		}
	}
	cfg := kinds["ConfigMap"]["data"].(map[string]any)["s3dns.yaml"].(string)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	os.WriteFile(file, []byte(cfg), 0o600)
	validate(t, nil, "--config", file)

	spec := kinds["Deployment"]["spec"].(map[string]any)
	if spec["replicas"].(int) < 2 {
		t.Error("fewer than 2 replicas")
	}
	var text bytes.Buffer
	yaml.NewEncoder(&text).Encode(kinds["Deployment"])
	yaml.NewEncoder(&text).Encode(kinds["Service"])
	for _, want := range []string{"path: /readyz", "path: /healthz", "prometheus.io/scrape: \"true\"", "protocol: UDP", "protocol: TCP", "port: 53",
		"externalTrafficPolicy: Local"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("manifests lack %q", want)
		}
	}
}

// Images are pinned: a tag, never latest or none.
func TestDeployImagesArePinned(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"deploy/kubernetes/s3dns.yaml", "deploy/compose/docker-compose.yaml"} {
		b, err := os.ReadFile(repoFile(file))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			image, ok := strings.CutPrefix(strings.TrimSpace(line), "image:")
			if !ok {
				continue
			}
			n++
			image, _, _ = strings.Cut(strings.TrimSpace(image), " ")
			if _, tag, ok := strings.Cut(image, ":"); !ok || tag == "latest" {
				t.Errorf("%s: image %q is not pinned to a tag", file, image)
			}
		}
		if n == 0 {
			t.Errorf("%s names no image", file)
		}
	}
}

func TestComposeExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(repoFile("deploy/compose/docker-compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range compose.Services["s3dns"].Environment {
		env = append(env, k+"="+v)
	}
	out := validate(t, env)
	if !strings.Contains(out, "takes myspecificbucket.s3.eu-west-2.amazonaws.com") {
		t.Errorf("compose environment not applied:\n%s", out)
	}
}
