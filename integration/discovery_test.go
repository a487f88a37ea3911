package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/internal/fakeec2"
)

// TestDiscoveryWithTheBinary goes from an AWS account to answers with the
// built binary: `s3dns discover` against the fake EC2 API (reached the way
// the SDK's own environment says: AWS_ENDPOINT_URL_EC2, AWS_CA_BUNDLE),
// its output pasted into a configuration, and `s3dns serve` answering with
// the endpoint it discovers.
func TestDiscoveryWithTheBinary(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	api := fakeec2.New(t).Recorded()
	var env []string
	for k, v := range api.Env(t) {
		env = append(env, k+"="+v)
	}
	env = append(env, "AWS_ENDPOINT_URL_EC2="+api.URL)

	cmd := exec.Command(builtBinary(t), "discover", "--region", "eu-west-2")
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir() // no s3dns.yaml here
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("s3dns discover: %v\n%s", err, out)
	}
	regional := "vpce-0a1b2c3d4e5f67890-abcdefgh.s3.eu-west-2.vpce.amazonaws.com."
	up := dnstest.NewUpstream(t, regional+" 60 IN A 10.20.1.10", regional+" 60 IN A 10.20.2.10")
	pasted := strings.Replace(string(out), "buckets: []", "buckets: [myspecificbucket]", 1)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(file, []byte("upstreams: [\""+up.Addr+"\"]\ndiscovery: {interval: 1s}\n"+pasted), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBinaryWithEnv(t, env, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	var answer string
	dnstest.WaitFor(t, "a CNAME to the discovered hostname", 10*time.Second, func() bool {
		answer = dig(t, digPath, p.dns, "+noall", "+answer", "myspecificbucket.s3.eu-west-2.amazonaws.com", "A")
		return strings.Contains(answer, regional) && strings.Contains(answer, "CNAME")
	})
	if !strings.Contains(answer, "10.20.1.10") || !strings.Contains(answer, "10.20.2.10") {
		t.Errorf("answer:\n%s", answer)
	}
	if _, metrics := p.get("/metrics"); !strings.Contains(metrics, `s3dns_discovery_age_seconds{endpoint="s3-eu-west-2"}`) {
		t.Error("no s3dns_discovery_age_seconds for s3-eu-west-2")
	}
}
