package discovery

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/s3dns/s3dns/internal/fakeec2"
)

func testClient(t *testing.T, api *fakeec2.Server) *Client {
	t.Helper()
	api.SetEnv(t)
	c, err := NewClient(context.Background(), Settings{Region: "eu-west-2", EndpointURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndpointsFromTheAPI(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	c := testClient(t, api)
	found, err := c.Endpoints(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].ID != fakeec2.STSID || found[1].ID != fakeec2.S3ID {
		t.Fatalf("found %+v, want the STS and S3 endpoints sorted by id", found)
	}
	s3 := found[1]
	if s3.Service != "s3" || s3.Region != "eu-west-2" || s3.VPCID != fakeec2.VPC || s3.State != "available" {
		t.Errorf("s3: service %q region %q vpc %q state %q", s3.Service, s3.Region, s3.VPCID, s3.State)
	}
	if s3.Hostname != "vpce-0a1b2c3d4e5f67890-abcdefgh.s3.eu-west-2.vpce.amazonaws.com" {
		t.Errorf("s3 regional hostname %q", s3.Hostname)
	}
	if got := s3.ZonalHostnames["eu-west-2b"]; got != "vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2b.s3.eu-west-2.vpce.amazonaws.com" || len(s3.ZonalHostnames) != 2 {
		t.Errorf("s3 zonal hostnames %v", s3.ZonalHostnames)
	}
	want := []netip.Addr{netip.MustParseAddr("10.20.1.10"), netip.MustParseAddr("10.20.2.10")}
	if !slices.Equal(s3.Addresses, want) || !slices.Equal(s3.Zones, []string{"eu-west-2a", "eu-west-2b"}) {
		t.Errorf("s3 addresses %v zones %v", s3.Addresses, s3.Zones)
	}
	sts := found[0]
	if sts.Service != "sts" || !sts.PrivateDNS || sts.Hostname != "vpce-0123456789abcdef0-wxyz1234.sts.eu-west-2.vpce.amazonaws.com" {
		t.Errorf("sts: service %q private dns %v hostname %q (the private DNS name sts.eu-west-2.amazonaws.com is not the endpoint's)", sts.Service, sts.PrivateDNS, sts.Hostname)
	}
}

func TestEndpointsByIDAndVPC(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	other := fakeec2.S3Endpoint
	other.ID, other.VPCID = "vpce-0ffffffffffffffff", "vpc-0other"
	api.Put(other, fakeec2.Interface{ID: "eni-0other", Zone: "eu-west-2c", Subnet: "subnet-0ccc", Addresses: []string{"10.30.3.10", "fd00:30::10"}})
	c := testClient(t, api)
	found, err := c.Endpoints(context.Background(), Query{IDs: []string{fakeec2.S3ID, "vpce-0000000000000dead"}})
	if err != nil || len(found) != 1 || found[0].ID != fakeec2.S3ID {
		t.Fatalf("by id (one missing): %+v, %v; want the one that exists", found, err)
	}
	found, err = c.Endpoints(context.Background(), Query{VPCID: "vpc-0other"})
	if err != nil || len(found) != 1 || found[0].ID != other.ID {
		t.Fatalf("by vpc: %+v, %v", found, err)
	}
	if want := []netip.Addr{netip.MustParseAddr("10.30.3.10"), netip.MustParseAddr("fd00:30::10")}; !slices.Equal(found[0].Addresses, want) {
		t.Errorf("addresses %v, want IPv4 and IPv6 %v", found[0].Addresses, want)
	}
}

func TestAPIErrorsAreReported(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	c := testClient(t, api)
	api.Fail(http.StatusServiceUnavailable, "RequestLimitExceeded")
	if _, err := c.Endpoints(context.Background(), Query{}); err == nil || !strings.Contains(err.Error(), "RequestLimitExceeded") {
		t.Errorf("throttled: %v", err)
	}
	api.Unfail()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")
	bad, err := NewClient(context.Background(), Settings{EndpointURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Endpoints(context.Background(), Query{}); err == nil || !strings.Contains(err.Error(), "AuthFailure") {
		t.Errorf("bad credentials: %v", err)
	}
}

func TestShortService(t *testing.T) {
	for in, want := range map[string][2]string{
		"com.amazonaws.eu-west-2.s3":                 {"s3", "eu-west-2"},
		"com.amazonaws.us-east-1.ecr.dkr":            {"ecr.dkr", "us-east-1"},
		"com.amazonaws.vpce.eu-west-2.vpce-svc-0123": {"", ""},
		"aws.sagemaker.eu-west-2.notebook":           {"", ""},
		"com.amazonaws.s3-global.accesspoint":        {"s3-global.accesspoint", ""},
		"com.amazonaws.iam":                          {"iam", ""},
		"com.amazonaws.route53":                      {"route53", ""},
		"cn.com.amazonaws.cn-north-1.s3":             {"s3", "cn-north-1"},
		"com.amazonaws.us-gov-west-1.s3":             {"s3", "us-gov-west-1"},
		"com.amazonaws.us-east-1.s3express":          {"s3express", "us-east-1"},
	} {
		if s, r := shortService(in); s != want[0] || r != want[1] {
			t.Errorf("shortService(%q) = %q, %q; want %q", in, s, r, want)
		}
	}
}

// closingOnce is an HTTP client whose first response body fails as
// net/http's read loop makes it fail when it closes the connection under
// the response (aws/aws-sdk-go-v2#2737).
type closingOnce struct {
	inner  *http.Client
	closed atomic.Bool
}

func (c *closingOnce) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(req)
	if err == nil && c.closed.CompareAndSwap(false, true) {
		resp.Body.Close()
		resp.Body = io.NopCloser(iotest.ErrReader(&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}))
	}
	return resp, err
}

// A page whose connection was closed under it is asked for again, once.
func TestClosedConnectionRetried(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	api.SetEnv(t) // AWS_MAX_ATTEMPTS=1: the SDK itself retries nothing
	flaky := &closingOnce{inner: api.Client()}
	c, err := newClient(context.Background(), Settings{Region: "eu-west-2", EndpointURL: api.URL},
		func(o *ec2.Options) { o.HTTPClient = flaky })
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.Endpoints(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || api.Calls("DescribeVpcEndpoints") != 2 || !flaky.closed.Load() {
		t.Fatalf("found %d endpoints in %d DescribeVpcEndpoints calls", len(found), api.Calls("DescribeVpcEndpoints"))
	}
}
