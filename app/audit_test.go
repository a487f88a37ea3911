package app

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/fakeec2"
	"github.com/s3dns/s3dns/internal/fakes3api"
)

const auditConfig = `upstreams: ["127.0.0.1:53"]
aws: {region: eu-west-2, endpoint_url: "%EC2%"}
sites:
  - {name: london, clients: ["10.1.0.0/16"]}
  - {name: dr, clients: ["10.3.0.0/16"], public: true}
endpoints:
  - name: s3-main
    region: eu-west-2
    hostname: vpce-0aaa1111aaaa11110-abcdefgh.s3.eu-west-2.vpce.amazonaws.com
    addresses: [10.0.1.10]
    buckets: [analytics]
`

// s3dns audit exits 1 on an error finding (a public site meets a bucket
// locked to the endpoint), prints the SPEC's JSON fields, and 0 once the
// DNS split and the policies agree: here after the bucket policy that
// s3dns export --format bucket-policy writes is put on a bucket that had
// none. Bad flags exit 2.
func TestAuditCommand(t *testing.T) {
	s3api, ec2api := fakes3api.New(t), fakeec2.New(t)
	// Not parallel: the S3 endpoint is the process's environment.
	t.Setenv("AWS_ENDPOINT_URL_S3", s3api.URL)
	t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", s3api.URL)
	ec2api.Put(fakeec2.Endpoint{ID: "vpce-0aaa1111aaaa11110", VPCID: "vpc-0main", ServiceName: "com.amazonaws.eu-west-2.s3", State: "available"})
	cfg := configFile(t, strings.ReplaceAll(auditConfig, "%EC2%", ec2api.URL))

	// No policy: private-but-open (a warning) for each private route: exit 0.
	s3api.PutBucket("analytics", fakes3api.Bucket{Region: "eu-west-2"})
	code, out, errOut := run(t, "audit", "--config", cfg, "--format", "json")
	var report struct {
		Findings []map[string]string `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if len(report.Findings) != 2 || report.Findings[0]["kind"] != "private-but-open" || report.Findings[0]["severity"] != "warning" ||
		report.Findings[0]["site"] != "" || report.Findings[1]["site"] != "london" {
		t.Fatalf("findings %v, want private-but-open for the top level and london", report.Findings)
	}
	for _, field := range []string{"severity", "kind", "bucket", "site", "endpoint", "statement", "fix"} {
		if _, ok := report.Findings[0][field]; !ok {
			t.Errorf("JSON finding lacks %q: %v", field, report.Findings[0])
		}
	}

	// The exported lock: the public site dr is locked out (exit 1), the
	// others agree.
	code, policy, errOut := run(t, "export", "--config", cfg, "--format", "bucket-policy", "--bucket", "analytics",
		"--allow-principal", "arn:aws:iam::111122223333:role/admin")
	if code != 0 || !strings.Contains(policy, "vpce-0aaa1111aaaa11110") || !strings.Contains(errOut, "site dr answers analytics publicly") {
		t.Fatalf("export bucket-policy: exit %d\n%s\n%s", code, policy, errOut)
	}
	s3api.PutBucket("analytics", fakes3api.Bucket{Region: "eu-west-2", Policy: policy})
	code, out, _ = run(t, "audit", "--config", cfg)
	if code != 1 || !strings.Contains(out, "locked-but-public") || !strings.Contains(out, "dr") {
		t.Errorf("audit with dr public: exit %d\n%s", code, out)
	}
	if code, out, _ = run(t, "audit", "--config", cfg, "--site", "london"); code != 0 || !strings.Contains(out, "no findings") {
		t.Errorf("audit --site london: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{{"--format", "yaml"}, {"--site", "paris"}, {"--bogus"}} {
		if code, _, errOut := run(t, append([]string{"audit", "--config", cfg}, args...)...); code != 2 {
			t.Errorf("audit %q: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, "export", "--config", cfg, "--format", "bucket-policy", "--bucket", "not-listed"); code != 1 ||
		!strings.Contains(errOut, `no S3 endpoint lists bucket "not-listed"`) {
		t.Errorf("export for an unlisted bucket: exit %d: %s", code, errOut)
	}
	code, out, _ = run(t, "export", "--config", cfg, "--format", "endpoint-policy")
	if code != 0 || !strings.Contains(out, `"arn:aws:s3:::analytics/*"`) {
		t.Errorf("export endpoint-policy: exit %d\n%s", code, out)
	}
}

// With audit.interval, serve audits at start and then every interval:
// s3dns_audit_findings and s3dns_audit_age_seconds, the findings in
// /status and s3dns status. A throttled audit keeps the last result (the
// findings stay, the age grows); a policy change flips the gauge within an
// interval; a reload audits the new split at once.
func TestServeAuditsContinuously(t *testing.T) {
	s3api, ec2api := fakes3api.New(t), fakeec2.New(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3api.URL) // not parallel: the process's environment
	ec2api.Put(fakeec2.Endpoint{ID: "vpce-0aaa1111aaaa11110", VPCID: "vpc-0main", ServiceName: "com.amazonaws.eu-west-2.s3", State: "available"})
	lock := `{"Statement":[{"Sid":"OnlyMain","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::analytics/*",` +
		`"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0aaa1111aaaa11110"}}}]}`
	s3api.PutBucket("analytics", fakes3api.Bucket{Region: "eu-west-2", Policy: lock})
	body := strings.ReplaceAll(auditConfig, "%EC2%", ec2api.URL) + "audit: {interval: 1s}\n"
	file := configFile(t, body)
	r := serveInProcess(t, file)

	const errors = `s3dns_audit_findings{kind="locked-but-public",severity="error"}`
	waitFor(t, r, func() bool { return r.metric(t, errors) == errors+" 1" }, "the first audit's finding")
	if r.metric(t, "s3dns_audit_age_seconds") == "" {
		t.Error("no s3dns_audit_age_seconds")
	}
	code, out, errOut := run(t, "status", "--http", r.http)
	if code != 0 || !strings.Contains(out, "locked-but-public") || !strings.Contains(out, "OnlyMain") {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}

	// Throttled: the finding stays, the age grows past the interval.
	s3api.Throttle(1_000_000)
	calls := s3api.Calls("GetBucketPolicy")
	waitFor(t, r, func() bool {
		return s3api.Calls("GetBucketPolicy") > calls && r.value(t, "s3dns_audit_age_seconds") > 2
	},
		"a throttled audit, the last result kept")
	if r.metric(t, errors) != errors+" 1" {
		t.Errorf("throttled audit dropped the last result: %q", r.metric(t, errors))
	}
	if !strings.Contains(r.logs.String(), "keeping the last result") {
		t.Error("no log line says the throttled audit kept the last result")
	}

	// The lock taken off the bucket: the gauge flips within one interval,
	// without a reload; put back, it flips again.
	s3api.Throttle(0)
	s3api.PutBucket("analytics", fakes3api.Bucket{Region: "eu-west-2"})
	waitFor(t, r, func() bool { return r.metric(t, errors) == errors+" 0" }, "the policy change audited")
	s3api.PutBucket("analytics", fakes3api.Bucket{Region: "eu-west-2", Policy: lock})
	waitFor(t, r, func() bool { return r.metric(t, errors) == errors+" 1" }, "the lock put back audited")

	// The dr site made private by a reload: audited at once, no error left.
	writeAtomically(t, file, strings.Replace(body, ", public: true", "", 1))
	r.reload <- struct{}{}
	waitFor(t, r, func() bool { return r.metric(t, errors) == errors+" 0" }, "the reloaded split audited")
}

func waitFor(t *testing.T, r *running, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s; logs:\n%s", what, r.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
