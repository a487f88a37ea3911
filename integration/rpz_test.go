package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/onprem"
)

// TestRPZMatchesS3dns loads the exported RPZ into a real BIND and checks
// that BIND answers like s3dns for listed, unlisted and "*"-covered names.
func TestRPZMatchesS3dns(t *testing.T) {
	t.Parallel()
	checkzone := requireTool(t, "named-checkzone", "bind9-utils")
	public := publicDNS(t)
	public.Add(t, "vpce-every.s3.us-east-1.vpce.amazonaws.com. 60 IN A 10.0.9.9")
	public.Add(t, "anything.s3.us-east-1.amazonaws.com. 60 IN A 192.0.2.99")
	public.Add(t, "vpce-0111-aaaa.sts.eu-west-2.vpce.amazonaws.com. 60 IN A 10.1.0.1")
	public.Add(t, "vpce-0333-cccc.dkr.ecr.eu-west-2.vpce.amazonaws.com. 60 IN A 10.3.0.1")
	endpoints := []endpoint{
		{Region: "eu-west-2", Hostname: sampleVPCE, Buckets: []string{"myspecificbucket", "my.dotted.bucket", "logs-*"}},
		{Region: "us-east-1", Hostname: "vpce-every.s3.us-east-1.vpce.amazonaws.com", Buckets: []string{"*"}},
		{Region: "eu-central-1", Addresses: []string{"10.7.7.7"}, Buckets: []string{"static-bucket"}},
		{Region: "eu-west-2", Service: "sts", Hostname: "vpce-0111-aaaa.sts.eu-west-2.vpce.amazonaws.com"},
		{Region: "eu-west-2", Service: "ecr.dkr", Hostname: "vpce-0333-cccc.dkr.ecr.eu-west-2.vpce.amazonaws.com"},
	}
	cfgFile := exportConfig(t, endpoints...)
	zone := export(t, "--format", "rpz", "--config", cfgFile)
	if !strings.Contains(zone, `bucket glob "logs-*" cannot be expressed in RPZ`) {
		t.Fatalf("glob not reported:\n%s", zone)
	}
	zoneFile := filepath.Join(t.TempDir(), "rpz.zone")
	os.WriteFile(zoneFile, []byte(zone), 0o644)
	if out, err := exec.Command(checkzone, onprem.RPZZone, zoneFile).CombinedOutput(); err != nil {
		t.Fatalf("named-checkzone rejects the RPZ:\n%s\n%s", out, zone)
	}
	bind := startNamed(t, public.Addr, `response-policy { zone "`+onprem.RPZZone+`"; };`,
		`zone "`+onprem.RPZZone+`" { type primary; file "`+zoneFile+`"; };`)
	s := s3dnsFor(t, public.Addr, endpoints)

	for _, name := range []string{
		listedName, "my.dotted.bucket.s3.eu-west-2.amazonaws.com", unlistedName,
		"anything.s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com", "static-bucket.s3.eu-central-1.amazonaws.com",
		"sts.eu-west-2.amazonaws.com", "123456789012.dkr.ecr.eu-west-2.amazonaws.com",
	} {
		viaBind, viaS3dns := ask(t, bind.addr, name, dns.TypeA), ask(t, s.dns, name, dns.TypeA)
		b, d := summary(viaBind), summary(viaS3dns)
		if !slices.Equal(b, d) {
			t.Errorf("%s: BIND with the RPZ answers %v, s3dns %v", name, b, d)
		}
	}
}

// summary is an answer's rcode and records without TTLs, sorted.
func summary(m *dns.Msg) []string {
	out := []string{dns.RcodeToString[m.Rcode]}
	for _, rr := range m.Answer {
		h := rr.Header()
		out = append(out, strings.ToLower(h.Name)+" "+dns.TypeToString[h.Rrtype]+" "+strings.TrimPrefix(rr.String(), h.String()))
	}
	slices.Sort(out[1:])
	return out
}
