package onprem

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

func endpoint(region string, buckets ...string) model.Endpoint {
	return model.Endpoint{Region: region, Hostname: "vpce-1." + region + ".vpce.amazonaws.com.", Buckets: buckets,
		Answer: model.AnswerCNAME, OnUnresolved: model.UnresolvedCNAME, TTL: time.Minute}
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
	cfg := &model.Config{Endpoints: []model.Endpoint{exact, globbed}}

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
	if _, err := DefaultServer(&model.Config{Listen: []string{"0.0.0.0:53"}}); err == nil {
		t.Error("a wildcard listener gave a default server")
	}
}

func TestWindowsWarnsAboutPort(t *testing.T) {
	var b bytes.Buffer
	WriteWindows(&b, &model.Config{Endpoints: []model.Endpoint{endpoint("eu-west-2", "a-bucket")}}, []Server{{Port: 5353}}, false)
	if !strings.Contains(b.String(), "always use port 53") || !strings.Contains(b.String(), `Add-DnsServerConditionalForwarderZone -Name "s3.eu-west-2.amazonaws.com"`) {
		t.Fatal(b.String())
	}
}

// Several instances (issue 31, item 3): every --server is kept, repeated or
// comma-separated, in order and once, in every format.
func TestEveryServerIsKept(t *testing.T) {
	servers, err := ParseServers([]string{"10.0.0.53", "10.0.1.53:5353,[fd00::53]", "10.0.0.53"})
	if err != nil {
		t.Fatal(err)
	}
	if got := named(servers); got != "10.0.0.53 port 53, 10.0.1.53 port 5353, fd00::53 port 53" {
		t.Fatalf("servers: %s", got)
	}
	if _, err := ParseServers([]string{"10.0.0.53,dns.example"}); err == nil {
		t.Fatal("a bad server in a list was accepted")
	}
	cfg := &model.Config{Endpoints: []model.Endpoint{endpoint("eu-west-2", "a-bucket")}}
	for name, want := range map[string][]string{
		"bind":    {"forwarders { 10.0.0.53 port 53; 10.0.1.53 port 5353; fd00::53 port 53; };"},
		"unbound": {"forward-addr: 10.0.0.53@53\n\tforward-addr: 10.0.1.53@5353\n\tforward-addr: fd00::53@53\n"},
		"windows": {"-MasterServers 10.0.0.53,10.0.1.53,fd00::53 -ForwarderTimeout 2"},
	} {
		var b bytes.Buffer
		map[string]func(){
			"bind":    func() { WriteBIND(&b, cfg, servers, false) },
			"unbound": func() { WriteUnbound(&b, cfg, servers, false) },
			"windows": func() { WriteWindows(&b, cfg, servers, false) },
		}[name]()
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q:\n%s", name, w, b.String())
			}
		}
	}
}

// The Unbound export lets Unbound query s3dns on loopback, and with sites
// says what to merge into module-config rather than replacing it.
func TestUnboundLoopbackAndModuleConfig(t *testing.T) {
	cfg := &model.Config{Endpoints: []model.Endpoint{endpoint("eu-west-2", "a-bucket")}}
	var b bytes.Buffer
	WriteUnbound(&b, cfg, []Server{{Addr: netip.MustParseAddr("127.0.0.1"), Port: 5353}}, false)
	if !strings.Contains(b.String(), "\tdo-not-query-localhost: no\n") {
		t.Errorf("loopback s3dns without do-not-query-localhost: no:\n%s", b.String())
	}
	b.Reset()
	WriteUnbound(&b, cfg, []Server{{Addr: netip.MustParseAddr("10.0.0.53"), Port: 53}}, false)
	if strings.Contains(b.String(), "do-not-query-localhost") {
		t.Errorf("do-not-query-localhost for a remote s3dns:\n%s", b.String())
	}
	cfg.Sites = []model.Site{{Name: "dc", Clients: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}
	b.Reset()
	WriteUnbound(&b, cfg, []Server{{Addr: netip.MustParseAddr("10.0.0.53"), Port: 53}}, false)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "module-config:") {
			t.Errorf("the export sets module-config, replacing the operator's: %q", line)
		}
	}
	if !strings.Contains(b.String(), "MERGE BY HAND") || !strings.Contains(b.String(), "#   "+SubnetcacheModules) {
		t.Errorf("sites without the module-config to merge:\n%s", b.String())
	}
}
