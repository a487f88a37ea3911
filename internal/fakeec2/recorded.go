package fakeec2

// The recorded shapes: an S3 and an STS interface endpoint of one VPC in
// eu-west-2, each with a network interface in eu-west-2a and eu-west-2b.
const (
	VPC   = "vpc-0f1e2d3c4b5a69788"
	S3ID  = "vpce-0a1b2c3d4e5f67890"
	STSID = "vpce-0123456789abcdef0"
)

// S3Endpoint is the recorded S3 endpoint; S3Interfaces its interfaces.
var (
	S3Endpoint = Endpoint{ID: S3ID, VPCID: VPC, ServiceName: "com.amazonaws.eu-west-2.s3", State: "available",
		DNSNames: []string{
			"*.vpce-0a1b2c3d4e5f67890-abcdefgh.s3.eu-west-2.vpce.amazonaws.com",
			"*.vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com",
			"*.vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2b.s3.eu-west-2.vpce.amazonaws.com",
		},
		Subnets: []string{"subnet-0aaa1111", "subnet-0bbb2222"}}
	S3Interfaces = []Interface{
		{ID: "eni-0s3a0000000000001", Zone: "eu-west-2a", Subnet: "subnet-0aaa1111", Addresses: []string{"10.20.1.10"}},
		{ID: "eni-0s3b0000000000002", Zone: "eu-west-2b", Subnet: "subnet-0bbb2222", Addresses: []string{"10.20.2.10"}},
	}
	STSEndpoint = Endpoint{ID: STSID, VPCID: VPC, ServiceName: "com.amazonaws.eu-west-2.sts", State: "available",
		PrivateDNS: true,
		DNSNames: []string{
			"vpce-0123456789abcdef0-wxyz1234.sts.eu-west-2.vpce.amazonaws.com",
			"vpce-0123456789abcdef0-wxyz1234-eu-west-2b.sts.eu-west-2.vpce.amazonaws.com",
			"vpce-0123456789abcdef0-wxyz1234-eu-west-2a.sts.eu-west-2.vpce.amazonaws.com",
			"sts.eu-west-2.amazonaws.com",
		},
		Subnets: []string{"subnet-0aaa1111", "subnet-0bbb2222"}}
	STSInterfaces = []Interface{
		{ID: "eni-0st5a000000000001", Zone: "eu-west-2a", Subnet: "subnet-0aaa1111", Addresses: []string{"10.20.1.20"}},
		{ID: "eni-0st5b000000000002", Zone: "eu-west-2b", Subnet: "subnet-0bbb2222", Addresses: []string{"10.20.2.20"}},
	}
)

// Recorded fills s with the recorded endpoints.
func (s *Server) Recorded() *Server {
	s.Put(S3Endpoint, S3Interfaces...)
	s.Put(STSEndpoint, STSInterfaces...)
	return s
}
