package zones

import (
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

func testEndpoints() []model.Endpoint {
	base := model.Endpoint{Answer: "cname", OnUnresolved: "cname", TTL: time.Minute}
	e0 := base
	e0.Region, e0.Hostname = "eu-west-2", "vpce-0.s3.eu-west-2.vpce.amazonaws.com."
	e0.Buckets = []string{"myspecificbucket", "logs-*", "my.dotted.bucket", "data-s3alias"}
	e0.AccessPoints = []string{"finance-123456789012"}
	e0.Control = true
	e1 := base
	e1.Region, e1.Hostname = "eu-west-2", "vpce-1.s3.eu-west-2.vpce.amazonaws.com."
	e1.Buckets = []string{"*", "logs-special", "lo*"}
	e1.AccessPoints = []string{"*"}
	e1.Dualstack = true
	e2 := base
	e2.Region, e2.Hostname = "us-east-1", "vpce-2.s3.us-east-1.vpce.amazonaws.com."
	e2.Buckets = []string{"backup-?"}
	e2.PathStyle = true
	e3 := base
	e3.Region, e3.Hostname = "us-east-1", "vpce-3.s3.us-east-1.vpce.amazonaws.com."
	e3.Buckets = []string{"backup-*"}
	return []model.Endpoint{e0, e1, e2, e3}
}

func TestMatch(t *testing.T) {
	m := New(testEndpoints())
	cases := []struct {
		name     string
		endpoint int // -1: not matched
		rule     string
		zone     string
	}{
		// Exact, in any letter case, with or without the final dot.
		{"myspecificbucket.s3.eu-west-2.amazonaws.com.", 0, `buckets: "myspecificbucket" (exact)`, "s3.eu-west-2.amazonaws.com."},
		{"MySpecificBucket.S3.EU-West-2.AmazonAWS.com", 0, `buckets: "myspecificbucket" (exact)`, "s3.eu-west-2.amazonaws.com."},
		// Globs beat "*"; exact beats glob even on a later endpoint.
		{"logs-2024.s3.eu-west-2.amazonaws.com.", 0, `buckets: "logs-*" (glob)`, ""},
		{"logs-special.s3.eu-west-2.amazonaws.com.", 1, `buckets: "logs-special" (exact)`, ""},
		{"lotus.s3.eu-west-2.amazonaws.com.", 1, `buckets: "lo*" (glob)`, ""},
		{"anything.s3.eu-west-2.amazonaws.com.", 1, `buckets: "*"`, ""},
		// Ties between globs go to the first endpoint in the file.
		{"backup-1.s3.us-east-1.amazonaws.com.", 2, `buckets: "backup-?" (glob)`, ""},
		{"backup-12.s3.us-east-1.amazonaws.com.", 3, `buckets: "backup-*" (glob)`, ""},
		{"other.s3.us-east-1.amazonaws.com.", -1, "", ""},
		// Dotted buckets and access point aliases are buckets.
		{"my.dotted.bucket.s3.eu-west-2.amazonaws.com.", 0, `buckets: "my.dotted.bucket" (exact)`, ""},
		{"data-s3alias.s3.eu-west-2.amazonaws.com.", 0, `buckets: "data-s3alias" (exact)`, ""},
		// The apex: path_style, or implied by "*".
		{"s3.us-east-1.amazonaws.com.", 2, "path_style: true", "s3.us-east-1.amazonaws.com."},
		{"s3.eu-west-2.amazonaws.com.", 1, `buckets: "*" (implies path_style)`, ""},
		// Access points.
		{"finance-123456789012.s3-accesspoint.eu-west-2.amazonaws.com.", 0, `access_points: "finance-123456789012" (exact)`, "s3-accesspoint.eu-west-2.amazonaws.com."},
		{"hr-123456789012.s3-accesspoint.eu-west-2.amazonaws.com.", 1, `access_points: "*"`, ""},
		{"hr-123456789012.s3-accesspoint.us-east-1.amazonaws.com.", -1, "", ""},
		// Control.
		{"123456789012.s3-control.eu-west-2.amazonaws.com.", 0, "control: true", "s3-control.eu-west-2.amazonaws.com."},
		{"s3-control.eu-west-2.amazonaws.com.", 0, "control: true", ""},
		{"s3-control.us-east-1.amazonaws.com.", -1, "", ""},
		// Dualstack only on endpoints that opt in.
		{"myspecificbucket.s3.dualstack.eu-west-2.amazonaws.com.", 1, `buckets: "*"`, "s3.dualstack.eu-west-2.amazonaws.com."},
		{"s3.dualstack.eu-west-2.amazonaws.com.", 1, `buckets: "*" (implies path_style)`, ""},
		{"backup-1.s3.dualstack.us-east-1.amazonaws.com.", -1, "", ""},
		{"s3.dualstack.us-east-1.amazonaws.com.", -1, "", ""},
		// Never served by PrivateLink.
		{"myspecificbucket.s3-fips.eu-west-2.amazonaws.com.", -1, "", ""},
		{"s3-fips.dualstack.eu-west-2.amazonaws.com.", -1, "", ""},
		{"myspecificbucket.s3-website-eu-west-2.amazonaws.com.", -1, "", ""},
		{"myspecificbucket.s3-website.eu-west-2.amazonaws.com.", -1, "", ""},
		{"s3.amazonaws.com.", -1, "", ""},
		{"myspecificbucket.s3.amazonaws.com.", -1, "", ""},
		{"myspecificbucket.s3-eu-west-2.amazonaws.com.", -1, "", ""},
		{"s3-eu-west-2.amazonaws.com.", -1, "", ""},
		// Other regions, other services, other domains.
		{"myspecificbucket.s3.eu-west-1.amazonaws.com.", -1, "", ""},
		{"ec2.eu-west-2.amazonaws.com.", -1, "", ""},
		{"a.b.s3-accesspoint.eu-west-2.amazonaws.com.", -1, "", ""},
		{"myspecificbucket.s3.eu-west-2.amazonaws.com.cn.", -1, "", ""},
		{"example.com.", -1, "", ""},
		{".", -1, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := m.Match(tc.name)
			if tc.endpoint < 0 {
				if ok {
					t.Fatalf("matched endpoint %d by %s, want no match", got.Index, got.Rule)
				}
				return
			}
			if !ok {
				_, reason, _ := m.Explain(tc.name)
				t.Fatalf("no match (%s), want endpoint %d", reason, tc.endpoint)
			}
			if got.Index != tc.endpoint || got.Rule != tc.rule {
				t.Errorf("endpoint %d by %s, want %d by %s", got.Index, got.Rule, tc.endpoint, tc.rule)
			}
			if tc.zone != "" && got.Zone != tc.zone {
				t.Errorf("zone %q, want %q", got.Zone, tc.zone)
			}
			if got.Endpoint != &m.endpoints[tc.endpoint] {
				t.Errorf("Endpoint pointer does not point at endpoint %d", tc.endpoint)
			}
		})
	}
}

func TestExplainReasons(t *testing.T) {
	m := New(testEndpoints())
	cases := map[string]string{
		"b.s3-fips.eu-west-2.amazonaws.com.":             "FIPS names are not served by PrivateLink",
		"b.s3-website-eu-west-2.amazonaws.com.":          "website endpoints are not served by PrivateLink",
		"s3.amazonaws.com.":                              "legacy global and dash-region S3 names",
		"b.s3-eu-west-2.amazonaws.com.":                  "dash-region S3 names",
		"b.s3.ap-south-1.amazonaws.com.":                 "no endpoint is configured for region ap-south-1",
		"other.s3.us-east-1.amazonaws.com.":              "bucket other is not listed for region us-east-1",
		"example.org.":                                   "not an AWS service name (amazonaws.com, amazonaws.com.cn …)",
		"backup-1.s3.dualstack.us-east-1.amazonaws.com.": "not listed on an endpoint with dualstack: true",
	}
	for name, want := range cases {
		_, reason, ok := m.Explain(name)
		if ok || !strings.Contains(reason, want) {
			t.Errorf("Explain(%s) = %q, %v; want %q", name, reason, ok, want)
		}
	}
}

func TestApexNeedsPathStyle(t *testing.T) {
	eps := testEndpoints()[:1]
	if _, ok := New(eps).Match("s3.eu-west-2.amazonaws.com."); ok {
		t.Fatal("apex matched without path_style or \"*\"")
	}
	eps[0].PathStyle = true
	if _, ok := New(eps).Match("s3.eu-west-2.amazonaws.com."); !ok {
		t.Fatal("apex not matched with path_style: true")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m := New(testEndpoints())
	for _, name := range []string{"myspecificbucket.s3.eu-west-2.amazonaws.com.", "logs-1.s3.eu-west-2.amazonaws.com.",
		"other.s3.us-east-1.amazonaws.com.", "www.example.com."} {
		if n := testing.AllocsPerRun(100, func() { m.Match(name) }); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	m := New(testEndpoints())
	for _, name := range []string{"myspecificbucket.s3.eu-west-2.amazonaws.com.", "logs-2024.s3.eu-west-2.amazonaws.com.", "www.example.com."} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(name)
			}
		})
	}
}
