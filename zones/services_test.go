package zones

import (
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

func serviceEndpoint(t *testing.T, service, region string, names ...string) model.Endpoint {
	t.Helper()
	e := model.Endpoint{Region: region, Service: service, Hostname: "vpce-9." + service + "." + region + ".vpce.amazonaws.com.",
		Answer: "cname", OnUnresolved: "cname", TTL: time.Minute, Names: names}
	if len(names) == 0 {
		var ok bool
		if e.Names, ok = model.ServiceNames(service, region); !ok {
			t.Fatalf("%s is not in the table", service)
		}
	}
	return e
}

func TestServiceNamesMatch(t *testing.T) {
	eps := append(testEndpoints(),
		serviceEndpoint(t, "sts", "eu-west-2"),
		serviceEndpoint(t, "ecr.api", "eu-west-2"),
		serviceEndpoint(t, "ecr.dkr", "eu-west-2"),
		serviceEndpoint(t, "execute-api", "eu-west-2"),
		serviceEndpoint(t, "internal-api", "eu-west-2", "special.execute-api.eu-west-2.amazonaws.com"), // beats the wildcard
	)
	m := New(eps)
	const sts, api, dkr, execAPI, special = 4, 5, 6, 7, 8
	for _, c := range []struct {
		name     string
		endpoint int // -1: not matched
		zone     string
	}{
		{"sts.eu-west-2.amazonaws.com.", sts, "sts.eu-west-2.amazonaws.com."},
		{"STS.EU-West-2.amazonaws.com", sts, "sts.eu-west-2.amazonaws.com."},
		{"sts.us-east-1.amazonaws.com.", -1, ""}, // another region
		{"kms.eu-west-2.amazonaws.com.", -1, ""}, // no endpoint for it: forwarded
		{"sts-fips.eu-west-2.amazonaws.com.", -1, ""},
		{"x.sts.eu-west-2.amazonaws.com.", -1, ""}, // exact names are exact
		{"api.ecr.eu-west-2.amazonaws.com.", api, "api.ecr.eu-west-2.amazonaws.com."},
		{"123456789012.dkr.ecr.eu-west-2.amazonaws.com.", dkr, "dkr.ecr.eu-west-2.amazonaws.com."},
		{"dkr.ecr.eu-west-2.amazonaws.com.", -1, ""},     // "*." is one label at least
		{"a.b.dkr.ecr.eu-west-2.amazonaws.com.", -1, ""}, // and one label at most
		{"abc123.execute-api.eu-west-2.amazonaws.com.", execAPI, "execute-api.eu-west-2.amazonaws.com."},
		{"special.execute-api.eu-west-2.amazonaws.com.", special, "special.execute-api.eu-west-2.amazonaws.com."},
		// S3 is unchanged beside them.
		{"myspecificbucket.s3.eu-west-2.amazonaws.com.", 0, "s3.eu-west-2.amazonaws.com."},
	} {
		got, ok := m.Match(c.name)
		switch {
		case c.endpoint < 0 && ok:
			t.Errorf("%s: matched endpoints[%d] (%s)", c.name, got.Index, got.Rule)
		case c.endpoint >= 0 && (!ok || got.Index != c.endpoint || got.Zone != c.zone):
			t.Errorf("%s: endpoint %d zone %q (%s, %v), want %d zone %q", c.name, got.Index, got.Zone, got.Rule, ok, c.endpoint, c.zone)
		}
	}
	for _, z := range []string{"sts.eu-west-2.amazonaws.com.", "x.dkr.ecr.eu-west-2.amazonaws.com", "abc.execute-api.eu-west-2.amazonaws.com"} {
		if !m.Serves(z) {
			t.Errorf("%s is not in a served zone", z)
		}
	}
}

func TestServiceMatchAllocatesNothing(t *testing.T) {
	m := New([]model.Endpoint{serviceEndpoint(t, "sts", "eu-west-2"), serviceEndpoint(t, "ecr.dkr", "eu-west-2")})
	for _, name := range []string{"sts.eu-west-2.amazonaws.com.", "123456789012.dkr.ecr.eu-west-2.amazonaws.com."} {
		if n := testing.AllocsPerRun(100, func() { m.Match(name) }); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}
