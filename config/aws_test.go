package config

import (
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

func TestDiscoveryKeys(t *testing.T) {
	cfg, _, err := load(t, `upstreams: [127.0.0.1]
aws: {region: EU-West-2, profile: ops, endpoint_url: "https://127.0.0.1:8443"}
discovery: {interval: 90s}
endpoints:
  - vpc_endpoint_id: VPCE-0A1B2C3D4E5F67890
    buckets: [b1b]
    zonal_hostnames:
      eu-west-2a: "*.vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com"
  - {vpc_endpoint_id: vpce-0a1b2c3d, region: eu-west-1, service: sts}
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AWS != (model.AWS{Region: "eu-west-2", Profile: "ops", EndpointURL: "https://127.0.0.1:8443"}) {
		t.Errorf("aws = %+v", cfg.AWS)
	}
	if cfg.Discovery.Interval != 90*time.Second {
		t.Errorf("discovery.interval = %v", cfg.Discovery.Interval)
	}
	s3, sts := cfg.Endpoints[0], cfg.Endpoints[1]
	if s3.VPCEndpointID != "vpce-0a1b2c3d4e5f67890" || s3.Region != "eu-west-2" || s3.Name != "s3-eu-west-2" {
		t.Errorf("first endpoint: id %q region %q name %q (want the id in lower case, aws.region, its default name)", s3.VPCEndpointID, s3.Region, s3.Name)
	}
	if got := s3.ZonalHostnames["eu-west-2a"]; got != "vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com." {
		t.Errorf("zonal hostname = %q", got)
	}
	if sts.Region != "eu-west-1" || sts.Name != "sts-eu-west-1" || !cfg.Discovers() {
		t.Errorf("second endpoint: region %q name %q; Discovers %v", sts.Region, sts.Name, cfg.Discovers())
	}
	plain, _, err := load(t, "upstreams: [127.0.0.1]\n")
	if err != nil || plain.Discovers() || plain.Discovery.Interval != 5*time.Minute {
		t.Errorf("without ids: Discovers %v interval %v err %v", plain.Discovers(), plain.Discovery.Interval, err)
	}
}
