package zones

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dns/s3dns/model"
)

// sdkEndpoints list every name family's example for the SDK test: S3 in
// four partitions' regions, S3 Express (a zone and a Local Zone), and a
// Multi-Region Access Point.
func sdkEndpoints() []model.Endpoint {
	base := model.Endpoint{Answer: "cname", OnUnresolved: "cname", TTL: time.Minute, Service: model.ServiceS3}
	var out []model.Endpoint
	for _, region := range []string{"eu-west-2", "us-east-1", "cn-north-1", "us-gov-west-1"} {
		e := base
		e.Name, e.Region, e.Hostname = "s3-"+region, region, "vpce-s3."+region+".vpce."+model.DNSSuffix(region)+"."
		e.Buckets, e.AccessPoints = []string{"listed-bucket"}, []string{"finance-123456789012"}
		e.Dualstack, e.PathStyle, e.Control = true, true, true
		out = append(out, e)
	}
	for _, region := range []string{"us-east-1", "us-west-2"} {
		x := base
		x.Name, x.Region, x.Service = "s3express-"+region, region, model.ServiceS3Express
		x.Hostname = "vpce-x.s3express." + region + ".vpce.amazonaws.com."
		x.Buckets = []string{"analytics--use1-az4--x-s3", "tmp-*--x-s3", "media--usw2-lax1-az1--x-s3"}
		x.AccessPoints = []string{"reports--use1-az4--xa-s3"}
		x.Dualstack, x.PathStyle = true, true
		out = append(out, x)
	}
	mrap := base
	mrap.Name, mrap.Service, mrap.Hostname, mrap.MRAPs = "mrap", model.ServiceMRAP, "vpce-m.accesspoint.s3-global.vpce.amazonaws.com.", []string{"mfzwi23gnjvgw"}
	return append(out, mrap)
}

// The AWS SDK for Go v2's own S3 endpoint resolver is the oracle for the
// names clients use: for every listed name (buckets, access point and
// Multi-Region Access Point ARNs, directory buckets and their access
// points, the S3 Express control endpoint), with dual-stack and FIPS on
// and off, path-style and virtual-hosted, in the aws, aws-cn and
// aws-us-gov partitions, the host it resolves to is answered privately by
// the right endpoint — or refused with a reason (FIPS has no PrivateLink
// names here), never silently public.
func TestSDKHostnamesOfListedNames(t *testing.T) {
	endpoints := sdkEndpoints()
	m := New(endpoints)
	resolver := s3.NewDefaultEndpointResolverV2()
	type ask struct {
		what, region, bucket string
		endpoint             string // the endpoint that must answer
		controlAPI           bool   // UseS3ExpressControlEndpoint
	}
	var asks []ask
	for _, region := range []string{"eu-west-2", "us-east-1", "cn-north-1", "us-gov-west-1"} {
		partition := "aws"
		switch {
		case strings.HasPrefix(region, "cn-"):
			partition = "aws-cn"
		case strings.HasPrefix(region, "us-gov-"):
			partition = "aws-us-gov"
		}
		asks = append(asks,
			ask{"bucket", region, "listed-bucket", "s3-" + region, false},
			ask{"access point ARN", region, fmt.Sprintf("arn:%s:s3:%s:123456789012:accesspoint/finance", partition, region), "s3-" + region, false})
	}
	asks = append(asks,
		ask{"directory bucket", "us-east-1", "analytics--use1-az4--x-s3", "s3express-us-east-1", false},
		ask{"directory bucket by glob", "us-east-1", "tmp-42--use1-az6--x-s3", "s3express-us-east-1", false},
		ask{"directory bucket in a Local Zone", "us-west-2", "media--usw2-lax1-az1--x-s3", "s3express-us-west-2", false},
		ask{"directory bucket access point", "us-east-1", "reports--use1-az4--xa-s3", "s3express-us-east-1", false},
		ask{"directory bucket, control API", "us-east-1", "analytics--use1-az4--x-s3", "s3express-us-east-1", true},
		ask{"Multi-Region Access Point ARN", "us-east-1", "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", "mrap", false},
	)
	seen := 0
	for _, a := range asks {
		for _, dualstack := range []bool{false, true} {
			for _, fips := range []bool{false, true} {
				for _, pathStyle := range []bool{false, true} {
					params := s3.EndpointParameters{Region: aws.String(a.region), Bucket: aws.String(a.bucket),
						UseDualStack: aws.Bool(dualstack), UseFIPS: aws.Bool(fips), ForcePathStyle: aws.Bool(pathStyle),
						UseArnRegion: aws.Bool(true), UseS3ExpressControlEndpoint: aws.Bool(a.controlAPI)}
					ep, err := resolver.ResolveEndpoint(context.Background(), params)
					if err != nil {
						continue // a combination AWS does not offer (MRAP with dual-stack, …)
					}
					host := ep.URI.Hostname()
					label := fmt.Sprintf("%s %s (dualstack %v, fips %v, path-style %v) → %s", a.what, a.bucket, dualstack, fips, pathStyle, host)
					match, why, ok := m.Explain(host)
					switch {
					case ok && match.Endpoint.Name != a.endpoint:
						t.Errorf("%s: answered by %s, want %s", label, match.Endpoint.Name, a.endpoint)
					case ok:
						seen++
						if strings.Contains(host, "s3express-use1-az4") && match.AZ != "use1-az4" {
							t.Errorf("%s: zone id %q, want use1-az4", label, match.AZ)
						}
					case fips && strings.Contains(why, "FIPS"):
						seen++ // refused, saying why
					default:
						t.Errorf("%s: not answered (%q): a listed name would go public", label, why)
					}
				}
			}
		}
	}
	if seen < 60 {
		t.Fatalf("only %d resolved hostnames checked", seen)
	}
}

// Names of the new families that are not listed are not answered, each
// with its reason.
func TestNewFamiliesExplainWhatIsNotAnswered(t *testing.T) {
	m := New(sdkEndpoints())
	for name, want := range map[string]string{
		"other--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com.":          "directory bucket other--use1-az4--x-s3 is not listed for region us-east-1",
		"s3express-use1-az4.eu-west-2.amazonaws.com.":                                "no endpoint with service: s3express is configured for region eu-west-2",
		"other.mrap.accesspoint.s3-global.amazonaws.com.":                            "Multi-Region Access Point other is not listed",
		"listed-bucket.s3.cn-north-1.amazonaws.com.":                                 "names of region cn-north-1 end in amazonaws.com.cn, not amazonaws.com",
		"analytics--use1-az4--x-s3.s3express-fips-use1-az4.us-east-1.amazonaws.com.": "FIPS S3 Express names are not served by PrivateLink",
	} {
		if _, why, ok := m.Explain(name); ok || !strings.HasPrefix(why, want) {
			t.Errorf("Explain(%s) = %q, %v; want %q", name, why, ok, want)
		}
	}
	for _, name := range []string{
		"s3express-control.us-east-1.amazonaws.com.",
		"s3express-control.dualstack.us-west-2.amazonaws.com.",
		"listed-bucket.s3.dualstack.cn-north-1.amazonaws.com.cn.",
		"mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com.",
	} {
		if !m.Serves(name) {
			t.Errorf("%s: not in a served zone", name)
		}
		if _, why, ok := m.Explain(name); !ok {
			t.Errorf("%s: not answered: %s", name, why)
		}
	}
}
