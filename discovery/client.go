package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Settings say how to reach the EC2 API; empty fields leave the SDK's
// standard chain to decide (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_EC2 …).
type Settings struct {
	Region      string
	Profile     string
	EndpointURL string
}

// Client asks one region's EC2 API about interface endpoints.
type Client struct {
	ec2    *ec2.Client
	region string
}

// NewClient loads the AWS configuration (credentials are fetched on the
// first call, not here) for s.
func NewClient(ctx context.Context, s Settings) (*Client, error) { return newClient(ctx, s) }

// newClient is NewClient with EC2 client options on top (tests give an
// HTTP client of their own).
func newClient(ctx context.Context, s Settings, optFns ...func(*ec2.Options)) (*Client, error) {
	cfg, err := LoadAWS(ctx, s)
	if err != nil {
		return nil, err
	}
	client := ec2.NewFromConfig(cfg, append([]func(*ec2.Options){func(o *ec2.Options) {
		if s.EndpointURL != "" {
			o.BaseEndpoint = aws.String(s.EndpointURL)
		}
	}}, optFns...)...)
	return &Client{ec2: client, region: cfg.Region}, nil
}

// LoadAWS loads the SDK's configuration for s (credentials are fetched on
// the first call, not here); it fails without a region. The audit's S3
// and S3 Control calls use it too.
func LoadAWS(ctx context.Context, s Settings) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	if s.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(s.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, fmt.Errorf("no AWS region: set aws.region, --region or AWS_REGION")
	}
	return cfg, nil
}

// Region is the region the client asks.
func (c *Client) Region() string { return c.region }

// Query narrows what Endpoints lists: by ids, by VPC, or every interface
// endpoint of the region.
type Query struct {
	IDs   []string
	VPCID string
}

// Endpoints lists the interface endpoints q selects, sorted by id, with the
// addresses of their network interfaces. Ids that do not exist are simply
// absent (filters, unlike VpcEndpointIds, do not fail on them).
func (c *Client) Endpoints(ctx context.Context, q Query) ([]Endpoint, error) {
	filters := []types.Filter{{Name: aws.String("vpc-endpoint-type"), Values: []string{"Interface"}}}
	if len(q.IDs) > 0 {
		filters = append(filters, types.Filter{Name: aws.String("vpc-endpoint-id"), Values: q.IDs})
	}
	if q.VPCID != "" {
		filters = append(filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{q.VPCID}})
	}
	var found []Endpoint
	var perEndpoint [][]string // network interface ids, as found
	var eniIDs []string
	pages := ec2.NewDescribeVpcEndpointsPaginator(c.ec2, &ec2.DescribeVpcEndpointsInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := retryClosed(ctx, pages.NextPage)
		if err != nil {
			return nil, fmt.Errorf("DescribeVpcEndpoints: %w", err)
		}
		for _, v := range page.VpcEndpoints {
			e := Endpoint{ID: aws.ToString(v.VpcEndpointId), VPCID: aws.ToString(v.VpcId), State: string(v.State),
				ServiceName: aws.ToString(v.ServiceName), Subnets: slices.Sorted(slices.Values(v.SubnetIds)),
				PrivateDNS: aws.ToBool(v.PrivateDnsEnabled)}
			e.Service, e.Region = shortService(e.ServiceName)
			e.VPCRegion = c.region
			if sr := aws.ToString(v.ServiceRegion); sr != "" {
				e.Region = sr // a cross-Region endpoint: the service's region
			}
			var names []string
			for _, d := range v.DnsEntries {
				names = append(names, aws.ToString(d.DnsName))
			}
			sortNames(&e, names)
			found = append(found, e)
			perEndpoint = append(perEndpoint, v.NetworkInterfaceIds)
			eniIDs = append(eniIDs, v.NetworkInterfaceIds...)
		}
	}
	interfaces, err := c.interfaces(ctx, eniIDs)
	if err != nil {
		return nil, err
	}
	for i := range found {
		addInterfaces(&found[i], perEndpoint[i], interfaces)
	}
	slices.SortFunc(found, func(a, b Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return found, nil
}

// retryClosed asks for a page again, once, when net/http closed the
// connection under the response (a race in its read loop that the SDK does
// not retry: aws/aws-sdk-go-v2#2737). Describe calls change nothing, and a
// failed page leaves the paginator where it was.
func retryClosed[T any](ctx context.Context, nextPage func(context.Context, ...func(*ec2.Options)) (T, error)) (T, error) {
	page, err := nextPage(ctx)
	if err != nil && errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
		return nextPage(ctx)
	}
	return page, err
}

// networkInterface is what an endpoint takes from one of its interfaces.
type networkInterface struct {
	zone, zoneID string
	addrs        []netip.Addr
}

// interfaces looks up the network interfaces ids name, by id.
func (c *Client) interfaces(ctx context.Context, ids []string) (map[string]networkInterface, error) {
	out := map[string]networkInterface{}
	if len(ids) == 0 {
		return out, nil
	}
	in := &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("network-interface-id"), Values: ids}}}
	pages := ec2.NewDescribeNetworkInterfacesPaginator(c.ec2, in)
	for pages.HasMorePages() {
		page, err := retryClosed(ctx, pages.NextPage)
		if err != nil {
			return nil, fmt.Errorf("DescribeNetworkInterfaces: %w", err)
		}
		for _, n := range page.NetworkInterfaces {
			ni := networkInterface{zone: aws.ToString(n.AvailabilityZone), zoneID: aws.ToString(n.AvailabilityZoneId)}
			for _, p := range n.PrivateIpAddresses {
				if a, err := netip.ParseAddr(aws.ToString(p.PrivateIpAddress)); err == nil {
					ni.addrs = append(ni.addrs, a)
				}
			}
			if len(ni.addrs) == 0 { // older shapes give only the primary address
				if a, err := netip.ParseAddr(aws.ToString(n.PrivateIpAddress)); err == nil {
					ni.addrs = append(ni.addrs, a)
				}
			}
			for _, p := range n.Ipv6Addresses {
				if a, err := netip.ParseAddr(aws.ToString(p.Ipv6Address)); err == nil {
					ni.addrs = append(ni.addrs, a)
				}
			}
			out[aws.ToString(n.NetworkInterfaceId)] = ni
		}
	}
	return out, nil
}

// addInterfaces gives e the zones and addresses of its network interfaces.
// An interface EC2 no longer lists (being deleted) adds nothing.
func addInterfaces(e *Endpoint, ids []string, interfaces map[string]networkInterface) {
	for _, id := range ids {
		ni, ok := interfaces[id]
		if !ok {
			continue
		}
		e.Addresses = append(e.Addresses, ni.addrs...)
		if ni.zone != "" && !slices.Contains(e.Zones, ni.zone) {
			e.Zones = append(e.Zones, ni.zone)
		}
		if ni.zone != "" && ni.zoneID != "" {
			if e.ZoneIDs == nil {
				e.ZoneIDs = map[string]string{}
			}
			e.ZoneIDs[ni.zoneID] = ni.zone
		}
	}
	slices.SortFunc(e.Addresses, func(a, b netip.Addr) int { return a.Compare(b) })
	e.Addresses = slices.Compact(e.Addresses)
	slices.Sort(e.Zones)
}
