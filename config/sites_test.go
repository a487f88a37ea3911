package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const threeSites = `upstreams: [127.0.0.1]
sites:
  - {name: london-dc, clients: ["10.1.0.0/16"], zone: eu-west-2a}
  - name: branch
    clients: ["10.2.0.0/16", "10.1.2.0/24"]
    endpoints:
      - {name: s3-london, buckets: ["backup-*"]}
  - {name: dr, clients: ["10.3.0.0/16"], public: true}
endpoints:
  - name: s3-london
    region: eu-west-2
    hostname: vpce-0a1b-abcd.s3.eu-west-2.vpce.amazonaws.com
    zonal_hostnames: {eu-west-2a: vpce-0a1b-abcd-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com}
    buckets: [data, "backup-*"]
    control: true
  - {name: sts-london, region: eu-west-2, service: sts, hostname: vpce-0c3d.sts.eu-west-2.vpce.amazonaws.com}
`

func TestSites(t *testing.T) {
	cfg, warnings, err := load(t, threeSites)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sites) != 3 {
		t.Fatalf("sites %+v", cfg.Sites)
	}
	if !slices.ContainsFunc(warnings, func(w string) bool {
		return strings.Contains(w, `10.1.2.0/24 lies within 10.1.0.0/16 of site "london-dc"`)
	}) {
		t.Errorf("no warning about the shadowed prefix: %v", warnings)
	}
	for addr, want := range map[string]string{"10.1.9.9": "london-dc", "10.1.2.3": "london-dc", "10.2.0.1": "branch", "10.3.0.1": "dr", "10.4.0.1": ""} {
		got := ""
		if i, _, ok := cfg.SiteOf(netip.MustParseAddr(addr)); ok {
			got = cfg.Sites[i].Name
		}
		if got != want {
			t.Errorf("site of %s = %q, want %q", addr, got, want)
		}
	}
	dc := cfg.EndpointsFor(&cfg.Sites[0])
	if dc[0].Zone != "eu-west-2a" || !slices.Equal(dc[0].Buckets, []string{"data", "backup-*"}) || dc[1].Zone != "eu-west-2a" {
		t.Errorf("london-dc sees %+v", dc)
	}
	branch := cfg.EndpointsFor(&cfg.Sites[1])
	if !slices.Equal(branch[0].Buckets, []string{"backup-*"}) || !branch[0].Control || branch[1].Names != nil {
		t.Errorf("branch sees s3-london buckets %v control %v, sts names %v: want only backup-* (control kept) and no sts", branch[0].Buckets, branch[0].Control, branch[1].Names)
	}
	dr := cfg.EndpointsFor(&cfg.Sites[2])
	if dr[0].Buckets != nil || dr[0].Control || dr[1].Names != nil {
		t.Errorf("the public site sees %+v", dr)
	}
	if cfg.Endpoints[0].Zone != "" || len(cfg.Endpoints[0].Buckets) != 2 {
		t.Errorf("EndpointsFor changed the configuration: %+v", cfg.Endpoints[0])
	}
}

func TestSiteErrors(t *testing.T) {
	base := "upstreams: [127.0.0.1]\nendpoints:\n  - {name: s3-london, region: eu-west-2, hostname: a.b, buckets: [b1b]}\n  - {name: sts, region: eu-west-2, service: sts, hostname: c.d}\nsites:\n"
	for yaml, want := range map[string]string{
		"  - {clients: [10.0.0.0/8]}\n":           `sites[0].name: is needed`,
		"  - {name: a, clients: [10.0.0.0/33]}\n": `sites[0].clients[0]: "10.0.0.0/33" is not a CIDR prefix or IP address`,
		"  - {name: a}\n":                         `sites[0].clients: at least one CIDR prefix (or, under client_names, a client certificate's name) is needed`,
		"  - {name: a, clients: [10.0.0.0/8]}\n  - {name: A, clients: [\"::1\"]}\n":            `sites[1].name: "A" is already the name of sites[0]`,
		"  - {name: a, clients: [10.0.0.0/8], zone: west-2a}\n":                                `sites[0].zone: "west-2a" is not an Availability Zone name (like eu-west-2a) or id (like euw2-az1)`,
		"  - {name: a, clients: [10.0.0.0/8], public: true, endpoints: [{name: s3-london}]}\n": `sites[0].endpoints: a public site is served by no endpoint`,
		"  - {name: a, clients: [10.0.0.0/8], endpoints: [{name: s3-londn}]}\n":                "sites[0].endpoints[0].name: \"s3-londn\" is not the name of an endpoint (did you mean `s3-london`?)",
		"  - {name: a, clients: [10.0.0.0/8], endpoints: [{name: sts, buckets: [x1x]}]}\n":     `sites[0].endpoints[0].buckets: is only for service: s3, not "sts"`,
		"  - {name: a, clients: [10.0.0.0/8], endpoints: [{name: s3-london, buckets: [X]}]}\n": `sites[0].endpoints[0].buckets[0]: "X" is not a valid bucket name`,
		"  - {name: a, clients: [10.0.0.0/8], endpionts: []}\n":                                "sites[0].endpionts: unknown key (did you mean `endpoints`?)",
		"  - {name: a, clients: [10.0.0.0/8]}\nsites_trust_ecs: [resolver1]\n":                 `sites_trust_ecs[0]: "resolver1" is not a CIDR prefix or IP address`,
		"  - {name: a, clients: [10.0.0.0/8], endpoints: [{name: s3-london, bucket: []}]}\n":   "sites[0].endpoints[0].bucket: unknown key (did you mean `buckets`?)",
	} {
		_, _, err := load(t, base+yaml)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", strings.TrimSpace(yaml), err, want)
		}
	}
}

func TestTrustedECSWithoutSitesWarns(t *testing.T) {
	cfg, warnings, err := load(t, "upstreams: [127.0.0.1]\nsites_trust_ecs: [10.0.0.53]\n")
	if err != nil || len(cfg.SitesTrustECS) != 1 || !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "no sites are configured") }) {
		t.Errorf("err %v, trusted %v, warnings %v", err, cfg.SitesTrustECS, warnings)
	}
}

// The keys of discovery and sites are set like every other key: by
// S3DNS_* variables and by flags, flags first.
func TestDiscoveryAndSitesFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("S3DNS_AWS_REGION", "eu-west-1")
	t.Setenv("S3DNS_DISCOVERY_INTERVAL", "90s")
	t.Setenv("S3DNS_SITES", `[{name: dc, clients: ["10.1.0.0/16"]}]`)
	t.Setenv("S3DNS_SITES_TRUST_ECS", "10.0.0.53,10.0.1.53/32")
	cfg, _, err := load(t, "upstreams: [127.0.0.1]\n", "--aws-region", "eu-west-2", "--aws-endpoint-url", "https://127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AWS.Region != "eu-west-2" || cfg.AWS.EndpointURL != "https://127.0.0.1:8443" || cfg.Discovery.Interval.String() != "1m30s" {
		t.Errorf("aws %+v, discovery %+v", cfg.AWS, cfg.Discovery)
	}
	if len(cfg.Sites) != 1 || cfg.Sites[0].Name != "dc" || len(cfg.SitesTrustECS) != 2 {
		t.Errorf("sites %+v, trusted %v", cfg.Sites, cfg.SitesTrustECS)
	}
	flags, _, err := load(t, "upstreams: [127.0.0.1]\n", "--sites", `[{name: lab, clients: ["10.9.0.0/16"], public: true}]`, "--sites-trust-ecs", "10.0.0.9")
	if err != nil || len(flags.Sites) != 1 || flags.Sites[0].Name != "lab" || len(flags.SitesTrustECS) != 1 {
		t.Errorf("from flags: %+v %v %v", flags.Sites, flags.SitesTrustECS, err)
	}
}
