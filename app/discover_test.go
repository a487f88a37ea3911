package app

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/config"
	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/internal/fakeec2"
)

func TestDiscoverPrintsConfigThatValidates(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	api.Put(fakeec2.Endpoint{ID: "vpce-0bbbbbbbbbbbbbbbb", VPCID: fakeec2.VPC, State: "available",
		ServiceName: "com.amazonaws.vpce.eu-west-2.vpce-svc-0123456789abcdef0"}) // a partner service
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	code, out, errOut := run(t, "discover", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--endpoint-url", api.URL, "--vpc-id", fakeec2.VPC)
	if code != 0 {
		t.Fatalf("discover exit %d: %s", code, errOut)
	}
	for _, want := range []string{"subnets subnet-0aaa1111, subnet-0bbb2222; zones eu-west-2a, eu-west-2b",
		"addresses now 10.20.1.10, 10.20.2.10", "vpce-svc-0123456789abcdef0", "not in s3dns's service table"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(file, []byte("upstreams: [127.0.0.1]\n"+out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "validate", "--config", file); code != 0 {
		t.Fatalf("validate of discover's output: exit %d\n%s\n%s", code, errOut, out)
	}
	cfg, _, err := config.Load(config.Options{File: file, SearchPaths: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range cfg.Endpoints {
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Name, e.VPCEndpointID, e.Service, e.Region))
	}
	want := []string{"sts-eu-west-2 vpce-0123456789abcdef0 sts eu-west-2", "s3-eu-west-2 vpce-0a1b2c3d4e5f67890 s3 eu-west-2"}
	if !slices.Equal(got, want) {
		t.Errorf("round trip: %q, want %q", got, want)
	}
}

// A VPC filter that matches nothing is an error (exit 1), not an empty
// success: most often a typo or the wrong region (issue 31, item 4).
func TestDiscoverWithNoMatchingVPCFails(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	code, out, errOut := run(t, "discover", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--endpoint-url", api.URL, "--vpc-id", "vpc-0000000000000000f")
	if code != 1 || out != "" || !strings.Contains(errOut, "no interface endpoint in VPC vpc-0000000000000000f in eu-west-2") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", code, out, errOut)
	}
}

func TestDiscoverSaysWhatFailed(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")
	code, out, errOut := run(t, "discover", "--endpoint-url", api.URL)
	if code != 1 || out != "" || !strings.Contains(errOut, "AuthFailure") {
		t.Errorf("bad credentials: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "discover", "--vpc", "x"); code != 2 || !strings.Contains(errOut, "unknown flag: --vpc") {
		t.Errorf("unknown flag: exit %d, %q", code, errOut)
	}
}

// addressesOf asks addr for name's A records and lists them (CNAMEs too),
// and the rcode when it is not NOERROR.
func addressesOf(addr, name string) []string {
	resp, err := ask(addr, "udp", name)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	if resp.Rcode != dns.RcodeSuccess {
		out = append(out, dns.RcodeToString[resp.Rcode])
	}
	for _, rr := range resp.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.CNAME:
			out = append(out, "CNAME "+rr.Target)
		}
	}
	slices.Sort(out)
	return out
}

func discoveryConfig(up, api string) string {
	return fmt.Sprintf(`upstreams: [%q]
upstream_timeout: 1s
aws: {region: eu-west-2, endpoint_url: %q}
discovery: {interval: 1s}
endpoints:
  - {name: s3-london, vpc_endpoint_id: %s, answer: alias, buckets: [stable]}
  - {name: sts-london, vpc_endpoint_id: %s, service: sts}
`, up, api, fakeec2.S3ID, fakeec2.STSID)
}

func TestDiscoveryFollowsEC2(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	up := dnstest.NewUpstream(t)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeAtomically(t, file, discoveryConfig(up.Addr, api.URL))
	r := serveInProcess(t, file)
	both := []string{"10.20.1.10", "10.20.2.10"}
	dnstest.WaitFor(t, "answers from the first discovery", 10*time.Second, func() bool {
		return slices.Equal(addressesOf(r.dns, stable), both)
	})
	if got := addressesOf(r.dns, "sts.eu-west-2.amazonaws.com."); !slices.Contains(got, "CNAME vpce-0123456789abcdef0-wxyz1234.sts.eu-west-2.vpce.amazonaws.com.") {
		t.Errorf("sts answer %v, want a CNAME to the discovered regional hostname", got)
	}
	if r.metric(t, `s3dns_discovery_age_seconds{endpoint="s3-london"}`) == "" {
		t.Error("no s3dns_discovery_age_seconds for s3-london")
	}

	api.RemoveInterface(fakeec2.S3Interfaces[1].ID) // a subnet taken out of the endpoint
	dnstest.WaitFor(t, "answers without the removed interface", 10*time.Second, func() bool {
		return slices.Equal(addressesOf(r.dns, stable), []string{"10.20.1.10"})
	})
	api.AddInterface(fakeec2.S3ID, fakeec2.Interface{ID: "eni-0s3c0000000000003", Zone: "eu-west-2c", Subnet: "subnet-0ccc3333", Addresses: []string{"10.20.3.10"}})
	dnstest.WaitFor(t, "answers with the added interface", 10*time.Second, func() bool {
		return slices.Equal(addressesOf(r.dns, stable), []string{"10.20.1.10", "10.20.3.10"})
	})

	api.Fail(http.StatusServiceUnavailable, "RequestLimitExceeded")
	dnstest.WaitFor(t, "throttling counted", 10*time.Second, func() bool {
		return r.value(t, `s3dns_discovery_errors_total{endpoint="s3-london"}`) >= 1
	})
	if got := addressesOf(r.dns, stable); !slices.Equal(got, []string{"10.20.1.10", "10.20.3.10"}) {
		t.Errorf("while throttled: %v, want the last good addresses", got)
	}
	if !strings.Contains(r.logs.String(), "RequestLimitExceeded") {
		t.Errorf("the throttling is not logged:\n%s", r.logs)
	}
	dnstest.WaitFor(t, "the data's age to grow past the interval", 10*time.Second, func() bool {
		line := r.metric(t, `s3dns_discovery_age_seconds{endpoint="s3-london"}`)
		var age float64
		fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &age)
		return age > 1 // past the 1s interval
	})
}

func TestDiscoveryWithBadCredentialsServesConfiguredData(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")
	up := dnstest.NewUpstream(t)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeAtomically(t, file, fmt.Sprintf(`upstreams: [%q]
aws: {endpoint_url: %q}
discovery: {interval: 1s}
endpoints:
  - {name: s3-london, vpc_endpoint_id: %s, region: eu-west-2, addresses: [10.9.9.9], buckets: [stable]}
`, up.Addr, api.URL, fakeec2.S3ID))
	r := serveInProcess(t, file)
	dnstest.WaitFor(t, "the failure counted", 10*time.Second, func() bool {
		return r.value(t, `s3dns_discovery_errors_total{endpoint="s3-london"}`) >= 1
	})
	if got := addressesOf(r.dns, stable); !slices.Equal(got, []string{"10.9.9.9"}) {
		t.Errorf("answer %v, want the configured address", got)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "AuthFailure") || !strings.Contains(logs, "answering from the configured data") {
		t.Errorf("logs do not say what failed:\n%s", logs)
	}
	if code, _ := r.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d: discovery failing must not make s3dns unready", code)
	}
}

// A site's zone given by AZ id (the same zone in every account) finds the
// endpoint's zonal hostname through the AZ names discovery reads from the
// network interfaces.
func TestSiteZoneByIDThroughDiscovery(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	zonal := "vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com."
	up := dnstest.NewUpstream(t, zonal+" 60 IN A 10.20.1.10")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeAtomically(t, file, fmt.Sprintf(`upstreams: [%q]
aws: {region: eu-west-2, endpoint_url: %q}
sites: [{name: dc, clients: ["127.0.0.0/8"], zone: euw2-az2}]
endpoints:
  - {name: s3-london, vpc_endpoint_id: %s, buckets: [stable]}
`, up.Addr, api.URL, fakeec2.S3ID))
	r := serveInProcess(t, file)
	dnstest.WaitFor(t, "the zonal name of euw2-az2 (eu-west-2a in this account)", 10*time.Second, func() bool {
		return slices.Equal(addressesOf(r.dns, stable), []string{"10.20.1.10", "CNAME " + zonal})
	})
}

// A restart while EC2 throttles (issue 31, item 4): with discovery.state_file
// the listed bucket is answered at once from the last good data, which
// /status, s3dns status and the metrics say came from the file; once EC2
// answers, from EC2.
func TestRestartWhileThrottledAnswersFromTheStateFile(t *testing.T) {
	api := fakeec2.New(t).Recorded()
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	up := dnstest.NewUpstream(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	writeAtomically(t, file, strings.Replace(discoveryConfig(up.Addr, api.URL), "discovery: {interval: 1s}",
		"discovery: {interval: 1h, state_file: "+filepath.Join(dir, "discovery.json")+"}", 1))
	both := []string{"10.20.1.10", "10.20.2.10"}
	first := serveInProcess(t, file)
	dnstest.WaitFor(t, "answers from the first discovery", 10*time.Second, func() bool {
		return slices.Equal(addressesOf(first.dns, stable), both)
	})
	first.cancel()
	<-first.exit
	first.exit <- 0

	api.Fail(http.StatusServiceUnavailable, "RequestLimitExceeded")
	r := serveInProcess(t, file)
	if got := addressesOf(r.dns, stable); !slices.Equal(got, both) {
		t.Fatalf("restarted while throttled: %v, want the state file's addresses %v", got, both)
	}
	if _, body := r.get(t, "/status"); !strings.Contains(body, `"source": "state_file"`) {
		t.Errorf("/status does not say the data came from the state file:\n%s", body)
	}
	if v := r.value(t, `s3dns_discovery_from_state_file{endpoint="s3-london"}`); v != 1 {
		t.Errorf("s3dns_discovery_from_state_file %v, want 1", v)
	}
	code, out, _ := run(t, "status", "--http", r.http)
	if code != 0 || !strings.Contains(out, "state file (EC2 not reached yet)") {
		t.Errorf("s3dns status: exit %d\n%s", code, out)
	}
	if !strings.Contains(r.logs.String(), "endpoint from the discovery state file until EC2 answers") {
		t.Errorf("the log does not say so:\n%s", r.logs)
	}
	api.Unfail()
	dnstest.WaitFor(t, "EC2 answering again", 30*time.Second, func() bool {
		return r.value(t, `s3dns_discovery_from_state_file{endpoint="s3-london"}`) == 0
	})
}

// A cross-Region endpoint and a China one, both found by discovery (the
// fake EC2 answers each region's API by its SigV4 scope): the service's
// names are answered with the discovered hostnames, `s3dns status` says
// which region each serves and where its VPC is, and explain — from the
// state file, with no EC2 — names the VPC's region.
func TestCrossRegionAndChinaThroughDiscovery(t *testing.T) {
	api := fakeec2.New(t)
	t.Parallel() // the fake EC2's environment is the process's (TestMain)
	const crossID, chinaID = "vpce-0c0c0c0c0c0c0c0c1", "vpce-0c0c0c0c0c0c0c0c3"
	const crossHost = "vpce-0c0c0c0c0c0c0c0c1-aaaa1111.s3.us-west-2.vpce.amazonaws.com."
	const chinaHost = "vpce-0c0c0c0c0c0c0c0c3-cccc3333.s3.cn-north-1.vpce.amazonaws.com.cn."
	api.Put(fakeec2.Endpoint{ID: crossID, VPCID: fakeec2.VPC, ServiceName: "com.amazonaws.us-west-2.s3", ServiceRegion: "us-west-2",
		VPCRegion: "eu-west-2", State: "available", DNSNames: []string{"*." + strings.TrimSuffix(crossHost, ".")},
		Interfaces: []string{"eni-0c0c000000000001"}}, fakeec2.Interface{ID: "eni-0c0c000000000001", Zone: "eu-west-2a", Subnet: "subnet-0a", Addresses: []string{"10.30.1.10"}})
	api.Put(fakeec2.Endpoint{ID: chinaID, VPCID: "vpc-0c0c0c0c0c0c0c0c3", ServiceName: "cn.com.amazonaws.cn-north-1.s3",
		VPCRegion: "cn-north-1", State: "available", DNSNames: []string{"*." + strings.TrimSuffix(chinaHost, ".")},
		Interfaces: []string{"eni-0c0c000000000003"}}, fakeec2.Interface{ID: "eni-0c0c000000000003", Zone: "cn-north-1a", Subnet: "subnet-0c", Addresses: []string{"10.40.1.10"}})
	up := dnstest.NewUpstream(t, crossHost+" 60 IN A 10.30.1.10", chinaHost+" 60 IN A 10.40.1.10")
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	writeAtomically(t, file, fmt.Sprintf(`upstreams: [%q]
upstream_timeout: 1s
aws: {region: eu-west-2, endpoint_url: %q}
discovery: {interval: 1h, state_file: %s}
endpoints:
  - {name: s3-oregon-from-london, vpc_endpoint_id: %s, region: us-west-2, buckets: [stable]}
  - {name: s3-beijing, vpc_endpoint_id: %s, region: cn-north-1, buckets: [beijing]}
`, up.Addr, api.URL, filepath.Join(dir, "discovery.json"), crossID, chinaID))
	r := serveInProcess(t, file)
	for name, want := range map[string][]string{
		"stable.s3.us-west-2.amazonaws.com.":      {"10.30.1.10", "CNAME " + crossHost},
		"beijing.s3.cn-north-1.amazonaws.com.cn.": {"10.40.1.10", "CNAME " + chinaHost},
	} {
		dnstest.WaitFor(t, name+" answered with the discovered endpoint", 10*time.Second, func() bool {
			return slices.Equal(addressesOf(r.dns, name), want)
		})
	}
	code, out, _ := run(t, "status", "--http", r.http)
	if code != 0 || !regexpMatches(`s3-oregon-from-london\s+`+crossID+`\s+us-west-2\s+eu-west-2\s+EC2`, out) ||
		!regexpMatches(`s3-beijing\s+`+chinaID+`\s+cn-north-1\s+cn-north-1\s+EC2`, out) {
		t.Errorf("s3dns status does not say which region each serves and where its VPC is: exit %d\n%s", code, out)
	}
	r.cancel()
	<-r.exit
	r.exit <- 0

	code, out, errOut := run(t, "explain", "stable.s3.us-west-2.amazonaws.com", "--config", file)
	if code != 0 || !strings.Contains(out, "region us-west-2, cross-Region: its VPC is in eu-west-2") ||
		!strings.Contains(out, "discovered: "+crossID+": as EC2 described it at") || !strings.Contains(out, "CNAME "+crossHost) {
		t.Errorf("explain of the cross-Region endpoint: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "explain", "beijing.s3.cn-north-1.amazonaws.com.cn", "--config", file)
	if code != 0 || !strings.Contains(out, "endpoint: s3-beijing") || strings.Contains(out, "cross-Region") || !strings.Contains(out, "CNAME "+chinaHost) {
		t.Errorf("explain of the China endpoint: exit %d\n%s%s", code, out, errOut)
	}
}

func regexpMatches(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
