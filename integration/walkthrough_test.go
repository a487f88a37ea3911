package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

const sampleVPCE = "vpce-0a1b2c3d4e5f67890-abcdefgh.s3.eu-west-2.vpce.amazonaws.com."

// publicDNS is a fake public resolver on loopback: the endpoint's regional
// name resolves to private addresses, an unlisted bucket to a public one.
func publicDNS(t *testing.T) *dnstest.Upstream {
	return dnstest.NewUpstream(t,
		sampleVPCE+" 60 IN A 10.0.1.10",
		sampleVPCE+" 60 IN A 10.0.2.10",
		"otherbucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.80",
		"myspecificbucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.81",
	)
}

// TestReadmeWalkthrough serves the repository's sample s3dns.yaml (only the
// ports and the upstream moved) and checks the answers the README shows.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	digPath := requireTool(t, "dig", "dnsutils")
	up := publicDNS(t)
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", repoFile("s3dns.yaml"), "--upstream", up.Addr)

	out := dig(t, digPath, p.dns, "myspecificbucket.s3.eu-west-2.amazonaws.com")
	for _, re := range []string{
		`status: NOERROR`,
		`flags: qr aa rd ra;`,
		`myspecificbucket\.s3\.eu-west-2\.amazonaws\.com\.\s+60\s+IN\s+CNAME\s+` + regexp.QuoteMeta(sampleVPCE),
		regexp.QuoteMeta(sampleVPCE) + `\s+\d+\s+IN\s+A\s+10\.0\.1\.10`,
		regexp.QuoteMeta(sampleVPCE) + `\s+\d+\s+IN\s+A\s+10\.0\.2\.10`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("listed bucket: no match for %s in:\n%s", re, out)
		}
	}
	if strings.Contains(out, "192.0.2.81") {
		t.Errorf("listed bucket got its public address:\n%s", out)
	}

	short := dig(t, digPath, p.dns, "+short", "otherbucket.s3.eu-west-2.amazonaws.com")
	if strings.TrimSpace(short) != "192.0.2.80" {
		t.Errorf("unlisted bucket: %q", short)
	}
	glob := dig(t, digPath, p.dns, "+short", "logs-2026.s3.eu-west-2.amazonaws.com")
	if !strings.HasPrefix(glob, sampleVPCE+"\n10.0.") {
		t.Errorf("glob bucket: %q", glob)
	}
	tcp := dig(t, digPath, p.dns, "+tcp", "+short", "MySpecificBucket.S3.eu-west-2.amazonaws.com")
	if !strings.HasPrefix(tcp, sampleVPCE) {
		t.Errorf("over TCP: %q", tcp)
	}
	if n := up.Count("myspecificbucket.s3.eu-west-2.amazonaws.com.", "udp"); n != 0 {
		t.Errorf("the listed bucket's public name was asked upstream %d times", n)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}
}

func TestGoClientAnd0x20(t *testing.T) {
	t.Parallel()
	up := publicDNS(t)
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", repoFile("s3dns.yaml"), "--upstream", up.Addr)
	name := "mYsPeCiFiCbUcKeT.s3.Eu-WeSt-2.aMaZoNaWs.CoM."
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, p.dns)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Question[0].Name != name || resp.Answer[0].Header().Name != name || len(resp.Answer) != 3 {
		t.Fatalf("0x20 not preserved or wrong answer: %v", resp)
	}
}

func TestValidateSampleAndBadConfig(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(builtBinary(t), "validate", "--config", repoFile("s3dns.yaml")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK") {
		t.Fatalf("validate sample: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("endpoints: [{region: eu-west-2, hostname: vpce_bad, buckets: [b1b]}]\nupstreams: [127.0.0.1]\n"), 0o600)
	cmd := exec.Command(builtBinary(t), "serve", "--config", bad, "--listen", dnstest.FreeAddr(t), "--http-listen", "")
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), `endpoints[0].hostname: "vpce_bad" is not a valid DNS name`) {
		t.Fatalf("serve with a bad config: %v\n%s", err, out)
	}
}

func TestContainerStyleEnvironmentOnly(t *testing.T) {
	t.Parallel()
	up := publicDNS(t)
	dir := t.TempDir() // no s3dns.yaml here
	cmd := exec.Command(builtBinary(t), "validate")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"S3DNS_UPSTREAMS="+up.Addr,
		`S3DNS_ENDPOINTS=[{region: eu-west-2, hostname: `+sampleVPCE+`, buckets: [myspecificbucket]}]`)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "takes myspecificbucket.s3.eu-west-2.amazonaws.com") {
		t.Fatalf("validate from the environment: %v\n%s", err, out)
	}
}
