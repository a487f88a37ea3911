package audit

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// AWS reads policies through the AWS APIs: S3 (bucket policies, Block
// Public Access, ListBuckets), S3 Control (access point policies) and EC2
// (endpoint policies), each in the resource's region. The SDK's standard
// settings apply (AWS_ENDPOINT_URL_S3, AWS_CA_BUNDLE …); ec2Endpoint is
// aws.endpoint_url, as for discovery.
type AWS struct {
	cfg         aws.Config
	ec2Endpoint string
	mu          sync.Mutex
	s3          map[string]*s3.Client
}

// NewAWS reads through cfg (discovery.LoadAWS gives it).
func NewAWS(cfg aws.Config, ec2Endpoint string) *AWS {
	return &AWS{cfg: cfg, ec2Endpoint: ec2Endpoint, s3: map[string]*s3.Client{}}
}

func (c *AWS) s3In(region string) *s3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.s3[region]; ok {
		return cl
	}
	cl := s3.NewFromConfig(c.cfg, func(o *s3.Options) { o.Region = region })
	c.s3[region] = cl
	return cl
}

// BucketPolicy implements Source.
func (c *AWS) BucketPolicy(ctx context.Context, region, bucket string) (string, error) {
	out, err := c.s3In(region).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", readError(err, "s3:GetBucketPolicy", "NoSuchBucketPolicy")
	}
	return aws.ToString(out.Policy), nil
}

// PublicAccessBlock implements Source.
func (c *AWS) PublicAccessBlock(ctx context.Context, region, bucket string) (string, error) {
	out, err := c.s3In(region).GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil {
		if err = readError(err, "s3:GetBucketPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration"); errors.Is(err, ErrNoPolicy) {
			return "none set on the bucket", nil
		}
		return "", err
	}
	b := out.PublicAccessBlockConfiguration
	var off []string
	for name, on := range map[string]*bool{"BlockPublicAcls": b.BlockPublicAcls, "IgnorePublicAcls": b.IgnorePublicAcls,
		"BlockPublicPolicy": b.BlockPublicPolicy, "RestrictPublicBuckets": b.RestrictPublicBuckets} {
		if !aws.ToBool(on) {
			off = append(off, name)
		}
	}
	if len(off) == 0 {
		return "all four settings on", nil
	}
	slices.Sort(off)
	return strings.Join(off, ", ") + " off", nil
}

// AccessPointPolicy implements Source.
func (c *AWS) AccessPointPolicy(ctx context.Context, region, account, name string) (string, error) {
	client := s3control.NewFromConfig(c.cfg, func(o *s3control.Options) {
		o.Region = region
		o.EndpointResolverV2 = literalIPEndpoint{s3control.NewDefaultEndpointResolverV2()}
	})
	out, err := client.GetAccessPointPolicy(ctx, &s3control.GetAccessPointPolicyInput{AccountId: aws.String(account), Name: aws.String(name)})
	if err != nil {
		return "", readError(err, "s3:GetAccessPointPolicy", "NoSuchAccessPointPolicy")
	}
	return aws.ToString(out.Policy), nil
}

// literalIPEndpoint keeps an endpoint URL override whose host is an IP
// address as it is: S3 Control puts the account id in front of the host
// (123456789012.s3-control…), which makes no host of an address. The
// account still goes in the x-amz-account-id header.
type literalIPEndpoint struct{ s3control.EndpointResolverV2 }

func (r literalIPEndpoint) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.EndpointResolverV2.ResolveEndpoint(ctx, p)
	if err != nil || p.Endpoint == nil {
		return ep, err
	}
	if u, perr := url.Parse(*p.Endpoint); perr == nil && net.ParseIP(u.Hostname()) != nil {
		ep.URI = *u
	}
	return ep, nil
}

// Endpoints implements Source.
func (c *AWS) Endpoints(ctx context.Context, region string, ids []string) (map[string]EndpointFacts, error) {
	client := ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.Region = region
		if c.ec2Endpoint != "" {
			o.BaseEndpoint = aws.String(c.ec2Endpoint)
		}
	})
	in := &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-endpoint-id"), Values: ids}}}
	out := map[string]EndpointFacts{}
	pages := ec2.NewDescribeVpcEndpointsPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, readError(err, "ec2:DescribeVpcEndpoints", "")
		}
		for _, v := range page.VpcEndpoints {
			out[aws.ToString(v.VpcEndpointId)] = EndpointFacts{VPC: aws.ToString(v.VpcId), Account: aws.ToString(v.OwnerId),
				Policy: aws.ToString(v.PolicyDocument)}
		}
	}
	return out, nil
}

// Buckets implements Source.
func (c *AWS) Buckets(ctx context.Context) ([]Bucket, error) {
	var out []Bucket
	pages := s3.NewListBucketsPaginator(c.s3In(c.cfg.Region), &s3.ListBucketsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, readError(err, "s3:ListAllMyBuckets", "")
		}
		for _, b := range page.Buckets {
			out = append(out, Bucket{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)})
		}
	}
	return out, nil
}

// readError files an SDK error: absent (the code that means no policy),
// denied (naming the permission), throttled, or other.
func readError(err error, permission, absent string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case absent != "" && code == absent:
			return ErrNoPolicy
		case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
			return &ReadError{Permission: permission, Denied: true, Err: err}
		}
	}
	throttled := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
	return &ReadError{Permission: permission, Throttled: throttled, Err: err}
}
