package config

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/s3dns/s3dns/model"
)

func TestServiceTable(t *testing.T) {
	for _, c := range []struct {
		service string
		want    []string
	}{
		{"sts", []string{"sts.eu-west-2.amazonaws.com"}},
		{"kms", []string{"kms.eu-west-2.amazonaws.com"}},
		{"secretsmanager", []string{"secretsmanager.eu-west-2.amazonaws.com"}},
		{"ssm", []string{"ssm.eu-west-2.amazonaws.com"}},
		{"ssmmessages", []string{"ssmmessages.eu-west-2.amazonaws.com"}},
		{"ec2messages", []string{"ec2messages.eu-west-2.amazonaws.com"}},
		{"ec2", []string{"ec2.eu-west-2.amazonaws.com", "ec2.eu-west-2.api.aws"}},
		{"logs", []string{"logs.eu-west-2.amazonaws.com"}},
		{"monitoring", []string{"monitoring.eu-west-2.amazonaws.com"}},
		{"sqs", []string{"sqs.eu-west-2.amazonaws.com"}},
		{"sns", []string{"sns.eu-west-2.amazonaws.com"}},
		{"lambda", []string{"lambda.eu-west-2.amazonaws.com"}},
		{"ecr.api", []string{"api.ecr.eu-west-2.amazonaws.com"}},
		{"ecr.dkr", []string{"*.dkr.ecr.eu-west-2.amazonaws.com"}},
		{"execute-api", []string{"*.execute-api.eu-west-2.amazonaws.com"}},
		{"elasticloadbalancing", []string{"elasticloadbalancing.eu-west-2.amazonaws.com"}},
		{"autoscaling", []string{"autoscaling.eu-west-2.amazonaws.com"}},
		{"kinesis-streams", []string{"kinesis.eu-west-2.amazonaws.com"}},
		{"athena", []string{"athena.eu-west-2.amazonaws.com"}},
		{"glue", []string{"glue.eu-west-2.amazonaws.com"}},
		{"states", []string{"states.eu-west-2.amazonaws.com"}},
		{"events", []string{"events.eu-west-2.amazonaws.com"}},
		{"sagemaker.api", []string{"api.sagemaker.eu-west-2.amazonaws.com"}},
		{"sagemaker.runtime", []string{"runtime.sagemaker.eu-west-2.amazonaws.com"}},
		{"s3tables", []string{"s3tables.eu-west-2.amazonaws.com"}},
		{"s3vectors", []string{"s3vectors.eu-west-2.api.aws"}},
	} {
		got, ok := model.ServiceNames(c.service, "eu-west-2")
		if !ok || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.service, got, ok, c.want)
		}
	}
	// Other partitions: China's suffixes, GovCloud's ordinary ones.
	for region, want := range map[string][]string{
		"cn-north-1":    {"ec2.cn-north-1.amazonaws.com.cn", "ec2.cn-north-1.api.amazonwebservices.com.cn"},
		"us-gov-west-1": {"ec2.us-gov-west-1.amazonaws.com", "ec2.us-gov-west-1.api.aws"},
	} {
		if got, _ := model.ServiceNames("ec2", region); !slices.Equal(got, want) {
			t.Errorf("ec2 in %s: %v, want %v", region, got, want)
		}
	}
	if _, ok := model.ServiceNames("kms-fips", "eu-west-2"); ok {
		t.Error("FIPS names belong to separate endpoint services and must not be in the table")
	}
}

func TestServiceEndpoints(t *testing.T) {
	const host = "hostname: vpce-1.sts.eu-west-2.vpce.amazonaws.com"
	cfg, _, err := load(t, "upstreams: [127.0.0.1]\nendpoints:\n"+
		"  - {region: eu-west-2, service: STS, "+host+"}\n"+
		"  - {region: eu-west-2, service: my-api, "+host+", names: [\"*.execute-api.eu-west-2.amazonaws.com.\", Orders.Example-Svc.eu-west-2.amazonaws.com]}\n"+
		"  - {region: eu-west-2, "+host+", buckets: [b1b]}\n")
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Endpoints
	if e[0].Service != "sts" || !slices.Equal(e[0].Names, []string{"sts.eu-west-2.amazonaws.com"}) ||
		!slices.Equal(e[1].Names, []string{"*.execute-api.eu-west-2.amazonaws.com", "orders.example-svc.eu-west-2.amazonaws.com"}) ||
		e[2].Service != model.ServiceS3 || len(e[2].Names) != 0 {
		t.Fatalf("endpoints %+v", e)
	}
	ep := func(s string) string {
		return "upstreams: [127.0.0.1]\nendpoints:\n  - {region: eu-west-2, " + host + ", " + s + "}\n"
	}
	for _, c := range []struct{ name, yaml, want string }{
		{"S3 keys on STS", ep("service: sts, buckets: [b1b], dualstack: true"), `endpoints[0].buckets: is only for service: s3, not "sts"`},
		{"S3 keys on STS (2)", ep("service: sts, path_style: true, control: true"), `endpoints[0].control: is only for service: s3, not "sts"`},
		{"unknown service", ep("service: quantum"), `endpoints[0].service: "quantum" is not in the built-in table`},
		{"bad service", ep("service: \"a b\""), `endpoints[0].service: "a b" is not an endpoint service name`},
		{"names outside amazonaws.com", ep("service: x, names: [api.example.com]"), `endpoints[0].names[0]: "api.example.com" is not a DNS name under an AWS service suffix`},
		{"wildcard inside", ep("service: x, names: [a.*.amazonaws.com]"), `endpoints[0].names[0]: "a.*.amazonaws.com" is not a DNS name under an AWS service suffix`},
		{"S3 name", ep("service: x, names: [\"*.s3.eu-west-2.amazonaws.com\"]"), `is an S3 name: use an endpoint with service: s3`},
		{"names on S3", ep("buckets: [b1b], names: [sts.eu-west-2.amazonaws.com]"), `endpoints[0].names: is not for service: s3`},
		{"two endpoints, one name", "upstreams: [127.0.0.1]\nendpoints:\n  - {region: eu-west-2, service: sts, " + host + "}\n" +
			"  - {region: eu-west-2, service: sts, " + host + "}\n", `endpoints[1].names[0]: "sts.eu-west-2.amazonaws.com" is already answered by endpoints[0]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := load(t, c.yaml)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// Every name family of 2026 in one file: S3 Express (a zonal hostname
// keyed by AZ id), a Multi-Region Access Point (no region), S3 Tables, S3
// Vectors (api.aws) and S3 in a China region. It validates, and each
// endpoint takes its family's names.
func TestEveryNameFamilyValidates(t *testing.T) {
	text, err := os.ReadFile("testdata/families.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := load(t, string(text))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]model.Endpoint{}
	for _, e := range cfg.Endpoints {
		byName[e.Name] = e
	}
	x, mrap := byName["s3x-virginia"], byName["mrap"]
	if x.Service != model.ServiceS3Express || x.ZonalHostnames["use1-az4"] == "" || !slices.Equal(x.Buckets, []string{"analytics--use1-az4--x-s3", "tmp-*--x-s3"}) {
		t.Errorf("S3 Express endpoint: %+v", x)
	}
	if mrap.Region != "" || !slices.Equal(mrap.MRAPs, []string{"mfzwi23gnjvgw"}) {
		t.Errorf("Multi-Region Access Point endpoint: %+v", mrap)
	}
	if got := byName["vectors"].Names; !slices.Equal(got, []string{"s3vectors.us-east-1.api.aws"}) {
		t.Errorf("S3 Vectors names %v", got)
	}
	if got := byName["s3-beijing"].Hostname; got != "vpce-0a1b2c3d4e5f67894-abcdefgh.s3.cn-north-1.vpce.amazonaws.com.cn." {
		t.Errorf("China endpoint hostname %q", got)
	}
}
