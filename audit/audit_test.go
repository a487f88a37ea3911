package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/internal/fakeec2"
	"github.com/s3dns/s3dns/internal/fakes3api"
	"github.com/s3dns/s3dns/model"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s3dns-audit")
	if err == nil {
		var env map[string]string
		if env, err = fakeec2.ProcessEnv(dir); err == nil {
			for k, v := range env {
				os.Setenv(k, v)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := dnstest.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	mainID   = "vpce-0aaa1111aaaa11110"
	backupID = "vpce-0bbb2222bbbb22220"
	account  = "111122223333"
)

// perimeterConfig: endpoint s3-main (listing the buckets), s3-backup
// (listing none), sites london (the top-level policy) and dr (public).
const perimeterConfig = `upstreams: ["127.0.0.1:53"]
aws: {region: eu-west-2}
sites:
  - {name: london, clients: ["10.1.0.0/16"]}
  - {name: dr, clients: ["10.3.0.0/16"], public: true}
endpoints:
  - name: s3-main
    region: eu-west-2
    hostname: vpce-0aaa1111aaaa11110-abcdefgh.s3.eu-west-2.vpce.amazonaws.com
    addresses: [10.0.1.10]
    buckets: [locked, locked-other, open, no-policy, allow-only, if-exists, for-any-value, org, carve-out,
              source-ip, unreadable-policy, endpoint-refuses, "logs-*"]
    access_points: ["finance-111122223333"]
  - name: s3-backup
    region: eu-west-2
    vpc_endpoint_id: vpce-0bbb2222bbbb22220
    hostname: vpce-0bbb2222bbbb22220-hgfedcba.s3.eu-west-2.vpce.amazonaws.com
    addresses: [10.0.2.10]
  - name: s3-east
    region: us-east-1
    hostname: vpce-0ccc3333cccc33330-abcdefgh.s3.us-east-1.vpce.amazonaws.com
    addresses: [10.0.3.10]
    buckets: [east-locked]
`

// deny is the data-perimeter statement AWS's examples write: deny unless
// the request comes through the endpoint (a condition block as JSON).
func deny(sid, resource, condition string) string {
	return fmt.Sprintf(`{"Sid":%q,"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":[%q,%q],"Condition":%s}`,
		sid, "arn:aws:s3:::"+resource, "arn:aws:s3:::"+resource+"/*", condition)
}

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// The audit reads real policy documents through the AWS SDK (S3, S3
// Control, EC2 against fakes on loopback HTTPS) and files exactly the
// findings each bucket deserves, route by route: the top-level policy and
// site london answer through s3-main, site dr publicly.
func TestAuditFindsEveryDisagreement(t *testing.T) {
	t.Parallel()
	s3api, ec2api := fakes3api.New(t), fakeec2.New(t)
	ec2api.Put(fakeec2.Endpoint{ID: mainID, VPCID: "vpc-0main", ServiceName: "com.amazonaws.eu-west-2.s3", State: "available", Owner: account,
		Policy: policy(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`,
			`{"Sid":"NotThatOne","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::endpoint-refuses","arn:aws:s3:::endpoint-refuses/*"]}`)})
	// Cross-Region: in a VPC of eu-west-2 (aws.region), for us-east-1's S3.
	ec2api.Put(fakeec2.Endpoint{ID: "vpce-0ccc3333cccc33330", VPCID: "vpc-0east", ServiceName: "com.amazonaws.us-east-1.s3", State: "available",
		VPCRegion: "eu-west-2", ServiceRegion: "us-east-1", Owner: account})
	ec2api.Put(fakeec2.Endpoint{ID: backupID, VPCID: "vpc-0backup", ServiceName: "com.amazonaws.eu-west-2.s3", State: "available", Owner: account})
	main := `{"StringNotEquals":{"aws:SourceVpce":"` + mainID + `"}}`
	buckets := map[string]fakes3api.Bucket{
		"locked":       {Policy: policy(deny("OnlyThroughMain", "locked", main))},
		"locked-other": {Policy: policy(deny("OnlyThroughBackup", "locked-other", `{"StringNotEquals":{"aws:SourceVpce":["`+backupID+`"]}}`))},
		"open":         {Policy: policy(`{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::open/*"}`)},
		"no-policy":    {BlockPublic: true},
		"allow-only": {Policy: policy(`{"Sid":"ThroughMain","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject",` +
			`"Resource":"arn:aws:s3:::allow-only/*","Condition":{"StringEquals":{"aws:SourceVpce":"` + mainID + `"}}}`)},
		"if-exists": {Policy: policy(deny("OnlyFromMainVPC", "if-exists", `{"StringNotEqualsIfExists":{"aws:SourceVpc":["vpc-0main","vpc-0other"]}}`))},
		// ForAnyValue over a key the public path lacks is false: the
		// statement never denies a public request.
		"for-any-value": {Policy: policy(deny("AnyValue", "for-any-value", `{"ForAnyValue:StringNotEquals":{"aws:SourceVpce":"`+mainID+`"}}`))},
		"org":           {Policy: policy(deny("OnlyOurOrg", "org", `{"StringNotEquals":{"aws:VpceOrgID":"o-abcd1234"}}`))},
		"carve-out": {Policy: policy(`{"Sid":"AdminsExcepted","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"s3:*",` +
			`"Resource":"arn:aws:s3:::carve-out/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"` + mainID + `"},` +
			`"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/break-glass-*"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}`)},
		"source-ip":         {Policy: policy(deny("VpceOrOffice", "source-ip", `{"StringNotEquals":{"aws:SourceVpce":"`+mainID+`"},"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`))},
		"unreadable-policy": {PolicyDenied: true},
		"endpoint-refuses":  {Policy: policy(deny("OnlyThroughMain", "endpoint-refuses", main))},
		// Not listed: with --all-buckets, its lock meets public answers.
		"secret": {Policy: policy(deny("Locked", "secret", main))},
	}
	for name, b := range buckets {
		b.Region = "eu-west-2"
		s3api.PutBucket(name, b)
	}
	// Its VPC is known only when the audit asks aws.region's EC2 as well.
	s3api.PutBucket("east-locked", fakes3api.Bucket{Region: "us-east-1",
		Policy: policy(deny("OnlyFromEastVPC", "east-locked", `{"StringNotEquals":{"aws:SourceVpc":"vpc-0east"}}`))})
	s3api.PutAccessPoint(account, "finance", policy(`{"Sid":"APThroughMain","Effect":"Deny","Principal":"*","Action":"s3:*",`+
		`"Resource":"arn:aws:s3:eu-west-2:111122223333:accesspoint/finance/object/*","Condition":`+main+`}`))

	cfg := loadConfig(t, perimeterConfig)
	report := Run(context.Background(), cfg, newSource(t, s3api, ec2api), Options{AllBuckets: true})
	got := map[string][]string{}
	for _, f := range report.Findings {
		if f.Severity != severityOf(f.Kind) {
			t.Errorf("%+v: severity %s", f, f.Severity)
		}
		got[f.Bucket] = append(got[f.Bucket], fmt.Sprintf("%s site=%s endpoint=%s statement=%s", f.Kind, f.Site, f.Endpoint, f.Statement))
	}
	want := map[string][]string{
		"locked": {"locked-but-public site=dr endpoint= statement=OnlyThroughMain"},
		"locked-other": {"locked-but-public site=dr endpoint= statement=OnlyThroughBackup",
			"locked-to-other-endpoint site= endpoint=s3-main statement=OnlyThroughBackup",
			"locked-to-other-endpoint site=london endpoint=s3-main statement=OnlyThroughBackup"},
		"open":       {"private-but-open site= endpoint=s3-main statement=", "private-but-open site=london endpoint=s3-main statement="},
		"no-policy":  {"private-but-open site= endpoint=s3-main statement=", "private-but-open site=london endpoint=s3-main statement="},
		"allow-only": {"private-but-open site= endpoint=s3-main statement=", "private-but-open site=london endpoint=s3-main statement="},
		"if-exists":  {"locked-but-public site=dr endpoint= statement=OnlyFromMainVPC"},
		"for-any-value": {"private-but-open site= endpoint=s3-main statement=",
			"private-but-open site=london endpoint=s3-main statement="},
		"org": {"locked-but-public site=dr endpoint= statement=OnlyOurOrg",
			"not-understood site= endpoint=s3-main statement=OnlyOurOrg", "not-understood site=london endpoint=s3-main statement=OnlyOurOrg"},
		"carve-out": {"locked-but-public site=dr endpoint= statement=AdminsExcepted"},
		"source-ip": {"not-understood site= endpoint=s3-main statement=VpceOrOffice", "not-understood site=dr endpoint= statement=VpceOrOffice",
			"not-understood site=london endpoint=s3-main statement=VpceOrOffice"},
		"unreadable-policy": {"unreadable site= endpoint= statement="},
		"endpoint-refuses": {"endpoint-policy-denies site= endpoint=s3-main statement=NotThatOne",
			"locked-but-public site=dr endpoint= statement=OnlyThroughMain"},
		"secret":               {"locked-but-public site= endpoint= statement=Locked", "locked-but-public site=dr endpoint= statement=Locked", "locked-but-public site=london endpoint= statement=Locked"},
		"finance-111122223333": {"locked-but-public site=dr endpoint= statement=APThroughMain"},
		"east-locked":          {"locked-but-public site=dr endpoint= statement=OnlyFromEastVPC"},
	}
	for bucket := range mergeKeys(want, got) {
		g, w := got[bucket], want[bucket]
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s:\n got  %q\n want %q", bucket, g, w)
		}
	}
	if report.Errors() == 0 || report.Checked != len(buckets)+1 { // every bucket but the unreadable one, and the access point
		t.Errorf("%d errors, %d checked", report.Errors(), report.Checked)
	}
	for _, f := range report.Findings {
		if f.Kind == Unreadable && !strings.Contains(f.Fix, "s3:GetBucketPolicy") {
			t.Errorf("unreadable finding does not name the permission: %+v", f)
		}
		if f.Fix == "" || f.Detail == "" {
			t.Errorf("finding without detail or fix: %+v", f)
		}
	}
}

func mergeKeys(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func loadConfig(t *testing.T, yaml string) *model.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.Options{File: path})
	if err != nil {
		t.Fatalf("%v", config.Messages(err))
	}
	return cfg
}

// newSource reads through the real SDK: S3 and S3 Control at s3api, EC2
// at ec2api, with the process's fake credentials and CA.
func newSource(t *testing.T, s3api *fakes3api.Server, ec2api *fakeec2.Server) *AWS {
	t.Helper()
	cfg, err := discovery.LoadAWS(context.Background(), discovery.Settings{Region: "eu-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(s3api.URL)
	return NewAWS(cfg, ec2api.URL)
}
