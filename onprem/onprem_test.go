package onprem

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/config"
)

func endpoint(region string, buckets ...string) config.Endpoint {
	return config.Endpoint{Region: region, Hostname: "vpce-1." + region + ".vpce.amazonaws.com.", Buckets: buckets,
		Answer: config.AnswerCNAME, OnUnresolved: config.UnresolvedCNAME, TTL: time.Minute}
}

func names(zones []Zone) string {
	var out []string
	for _, z := range zones {
		out = append(out, z.Name)
	}
	return strings.Join(out, ",")
}

func TestForwardZones(t *testing.T) {
	exact := endpoint("eu-west-2", "a-bucket", "b-bucket")
	exact.Dualstack = true
	globbed := endpoint("us-east-1", "logs-*")
	globbed.AccessPoints = []string{"ap-123456789012"}
	globbed.Control = true
	cfg := &config.Config{Endpoints: []config.Endpoint{exact, globbed}}

	if got := names(ForwardZones(cfg, false)); got != "s3.eu-west-2.amazonaws.com,s3.dualstack.eu-west-2.amazonaws.com,"+
		"s3.us-east-1.amazonaws.com,s3-accesspoint.us-east-1.amazonaws.com,s3-control.us-east-1.amazonaws.com" {
		t.Errorf("per region: %s", got)
	}
	if got := names(ForwardZones(cfg, true)); got != "a-bucket.s3.eu-west-2.amazonaws.com,a-bucket.s3.dualstack.eu-west-2.amazonaws.com,"+
		"b-bucket.s3.eu-west-2.amazonaws.com,b-bucket.s3.dualstack.eu-west-2.amazonaws.com,"+
		"s3.us-east-1.amazonaws.com,s3-accesspoint.us-east-1.amazonaws.com,s3-control.us-east-1.amazonaws.com" {
		t.Errorf("per bucket (globs keep the region): %s", got)
	}
}

func TestParseServer(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.53": "10.0.0.53/53", "10.0.0.53:5353": "10.0.0.53/5353", "[fd00::53]:53": "fd00::53/53", "fd00::53": "fd00::53/53"} {
		s, err := ParseServer(in)
		if err != nil || s.Addr.String()+"/"+strconv.Itoa(s.Port) != want {
			t.Errorf("%s: %v %v", in, s, err)
		}
	}
	for _, bad := range []string{"dns.example", "10.0.0.1:0", "10.0.0.1:x", ""} {
		if _, err := ParseServer(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := DefaultServer(&config.Config{Listen: []string{"0.0.0.0:53"}}); err == nil {
		t.Error("a wildcard listener gave a default server")
	}
}

func TestWindowsWarnsAboutPort(t *testing.T) {
	var b bytes.Buffer
	WriteWindows(&b, &config.Config{Endpoints: []config.Endpoint{endpoint("eu-west-2", "a-bucket")}}, Server{Port: 5353}, false)
	if !strings.Contains(b.String(), "always use port 53") || !strings.Contains(b.String(), `Add-DnsServerConditionalForwarderZone -Name "s3.eu-west-2.amazonaws.com"`) {
		t.Fatal(b.String())
	}
}
