package discovery

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/fakeec2"
	"github.com/s3dns/s3dns/model"
)

func discoveringConfig(api string, endpoints ...model.Endpoint) *model.Config {
	return &model.Config{AWS: model.AWS{Region: "eu-west-2", EndpointURL: api},
		Discovery: model.Discovery{Interval: time.Minute}, Endpoints: endpoints}
}

func TestRefresherKeepsTheLastGoodData(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	api.SetEnv(t)
	cfg := discoveringConfig(api.URL,
		model.Endpoint{Name: "s3-london", VPCEndpointID: fakeec2.S3ID, Region: "eu-west-2", Service: "s3"},
		model.Endpoint{Name: "wrong-service", VPCEndpointID: fakeec2.STSID, Region: "eu-west-2", Service: "s3"},
		model.Endpoint{Name: "gone", VPCEndpointID: "vpce-0000000000000dead", Region: "eu-west-2", Service: "s3"},
		model.Endpoint{Name: "static", Region: "eu-west-2", Service: "s3", Hostname: "a.example."})
	errors := map[string]int{}
	changes := 0
	r := NewRefresher(cfg, Options{OnError: func(name string) { errors[name]++ }, OnChange: func() { changes++ }}, nil)
	r.Refresh(context.Background())
	found := r.Found()
	if len(found) != 1 || found[fakeec2.S3ID].Hostname == "" {
		t.Fatalf("found %v, want the S3 endpoint only", found)
	}
	if errors["wrong-service"] != 1 || errors["gone"] != 1 || errors["s3-london"] != 0 || changes != 1 {
		t.Errorf("errors %v changes %d: want one each for the STS endpoint configured as s3 and the missing id", errors, changes)
	}
	r.Refresh(context.Background())
	if changes != 1 {
		t.Errorf("%d changes after a refresh that found the same data", changes)
	}

	api.Fail(http.StatusInternalServerError, "InternalError")
	r.Refresh(context.Background())
	if errors["s3-london"] != 1 || len(r.Found()) != 1 {
		t.Errorf("after a failed refresh: errors %v, found %v; want the error counted and the data kept", errors, r.Found())
	}
	ages := r.Ages()
	if _, ok := ages["s3-london"]; !ok || len(ages) != 1 {
		t.Errorf("ages %v, want s3-london only", ages)
	}

	// A reload's refresher starts from what the previous one knew.
	next := NewRefresher(cfg, Options{}, r)
	if len(next.Found()) != 1 {
		t.Errorf("the next refresher knows %v", next.Found())
	}
}

func TestFillLeavesWhatTheFileGives(t *testing.T) {
	given := netip.MustParseAddr("10.9.9.9")
	cfg := &model.Config{Endpoints: []model.Endpoint{
		{Name: "a", VPCEndpointID: "vpce-0a1b2c3d", Addresses: []netip.Addr{given},
			ZonalHostnames: map[string]string{"eu-west-2a": "mine.example."}},
		{Name: "b", Hostname: "b.example."},
	}}
	found := map[string]Endpoint{"vpce-0a1b2c3d": {ID: "vpce-0a1b2c3d", Hostname: "vpce-x.s3.eu-west-2.vpce.amazonaws.com",
		Addresses:      []netip.Addr{netip.MustParseAddr("10.20.1.10")},
		ZonalHostnames: map[string]string{"eu-west-2a": "zonal-a.example", "eu-west-2b": "zonal-b.example"}}}
	out := Fill(cfg, found)
	a := out.Endpoints[0]
	if a.Hostname != "vpce-x.s3.eu-west-2.vpce.amazonaws.com." || !slices.Equal(a.Addresses, []netip.Addr{given}) {
		t.Errorf("hostname %q addresses %v: want the discovered hostname and the given addresses", a.Hostname, a.Addresses)
	}
	if a.ZonalHostnames["eu-west-2a"] != "mine.example." || a.ZonalHostnames["eu-west-2b"] != "zonal-b.example." {
		t.Errorf("zonal %v", a.ZonalHostnames)
	}
	if cfg.Endpoints[0].Hostname != "" || len(cfg.Endpoints[0].ZonalHostnames) != 1 || out.Endpoints[1].Hostname != "b.example." {
		t.Errorf("Fill changed its input or an endpoint without an id: %+v", cfg.Endpoints)
	}
}

// A cross-Region endpoint (in a VPC of eu-west-2, aws.region, for S3 of
// us-west-2: EC2's ServiceRegion) and a global service's endpoint
// (Multi-Region Access Points) are found where their VPC is, though EC2 of
// us-west-2 does not list them; an endpoint whose service region is not the
// configured one is refused, saying so.
func TestRefresherFindsCrossRegionAndGlobalEndpoints(t *testing.T) {
	api := fakeec2.New(t)
	api.SetEnv(t)
	const crossID, mrapID = "vpce-0c0c0c0c0c0c0c0c1", "vpce-0c0c0c0c0c0c0c0c2"
	api.Put(fakeec2.Endpoint{ID: crossID, VPCID: fakeec2.VPC, ServiceName: "com.amazonaws.us-west-2.s3", ServiceRegion: "us-west-2",
		VPCRegion: "eu-west-2", State: "available", DNSNames: []string{"*.vpce-0c0c0c0c0c0c0c0c1-aaaa1111.s3.us-west-2.vpce.amazonaws.com"},
		Interfaces: []string{"eni-0c0c000000000001"}}, fakeec2.Interface{ID: "eni-0c0c000000000001", Zone: "eu-west-2a", Subnet: "subnet-0a", Addresses: []string{"10.30.1.10"}})
	api.Put(fakeec2.Endpoint{ID: mrapID, VPCID: fakeec2.VPC, ServiceName: "com.amazonaws.s3-global.accesspoint",
		VPCRegion: "eu-west-2", State: "available", DNSNames: []string{"*.vpce-0c0c0c0c0c0c0c0c2-bbbb2222.accesspoint.s3-global.vpce.amazonaws.com"},
		Interfaces: []string{"eni-0c0c000000000002"}}, fakeec2.Interface{ID: "eni-0c0c000000000002", Zone: "eu-west-2b", Subnet: "subnet-0b", Addresses: []string{"10.30.2.10"}})
	cfg := discoveringConfig(api.URL,
		model.Endpoint{Name: "s3-oregon-from-london", VPCEndpointID: crossID, Region: "us-west-2", Service: "s3"},
		model.Endpoint{Name: "mrap", VPCEndpointID: mrapID, Service: model.ServiceMRAP},
		model.Endpoint{Name: "wrong-region", VPCEndpointID: crossID, Region: "us-east-1", Service: "s3"})
	failed := map[string]int{}
	r := NewRefresher(cfg, Options{OnError: func(name string) { failed[name]++ }}, nil)
	r.Refresh(context.Background())
	found := r.Found()
	cross, mrap := found[crossID], found[mrapID]
	if cross.Region != "us-west-2" || cross.VPCRegion != "eu-west-2" || cross.Hostname != "vpce-0c0c0c0c0c0c0c0c1-aaaa1111.s3.us-west-2.vpce.amazonaws.com" {
		t.Errorf("cross-Region endpoint: %+v", cross)
	}
	if mrap.Service != model.ServiceMRAP || mrap.Region != "" || len(mrap.Addresses) != 1 {
		t.Errorf("Multi-Region Access Point endpoint: %+v", mrap)
	}
	if failed["s3-oregon-from-london"] != 0 || failed["mrap"] != 0 || failed["wrong-region"] != 1 {
		t.Errorf("failures %v: want one, for the endpoint configured with another region", failed)
	}
}
