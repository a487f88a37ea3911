package config

import (
	"strings"
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

func TestValidationErrorsNameKeyAndValue(t *testing.T) {
	ep := func(fields string) string {
		return "upstreams: [127.0.0.1]\nendpoints:\n  - {region: eu-west-2, hostname: vpce.example.com, buckets: [b1b]}\n  - {" + fields + "}\n"
	}
	cases := []struct {
		name, yaml, want string
	}{
		{"bad hostname", ep(`region: eu-west-2, hostname: vpce_bad, buckets: [x1x]`), `endpoints[1].hostname: "vpce_bad" is not a valid DNS name: label 1 ("vpce_bad") holds '_': only letters, digits and hyphens are allowed`},
		{"hostname with an empty label", ep(`region: eu-west-2, hostname: "a..b", buckets: [x1x]`), `endpoints[1].hostname: "a..b" is not a valid DNS name: label 2 is empty`},
		{"hostname label too long", ep(`region: eu-west-2, hostname: "` + strings.Repeat("a", 64) + `.b", buckets: [x1x]`), `is 64 characters long, more than 63`},
		{"hostname label with a hyphen at the end", ep(`region: eu-west-2, hostname: "vpce-.b", buckets: [x1x]`), `label 1 ("vpce-") starts or ends with a hyphen`},
		{"a wildcard inside the hostname", ep(`region: eu-west-2, hostname: "a.*.b", buckets: [x1x]`), `label 2 ("*") holds '*'`},
		{"bad name", ep(`name: "S3 London", region: eu-west-2, hostname: a.b, buckets: [x1x]`), `endpoints[1].name: "S3 London" is not a valid name`},
		{"duplicate name", "upstreams: [127.0.0.1]\nendpoints:\n  - {name: lon, region: eu-west-2, hostname: a.b, buckets: [b1b]}\n  - {name: LON, region: eu-west-2, hostname: a.b, buckets: [x1x]}\n", `endpoints[1].name: "LON" is already the name of endpoints[0]`},
		{"bad region", ep(`region: mars-1, hostname: a.b, buckets: [x1x]`), `endpoints[1].region: "mars-1" is not an AWS region name`},
		{"region typo", ep(`region: eu-wst-2, hostname: a.b, buckets: [x1x]`), `endpoints[1].region: "eu-wst-2" is not an AWS region name (did you mean "eu-west-2"?)`},
		{"public S3 name as the hostname", ep(`region: eu-west-2, hostname: s3.eu-west-2.amazonaws.com, buckets: [x1x]`),
			`endpoints[1].hostname: "s3.eu-west-2.amazonaws.com" is a public AWS name, not the endpoint's own`},
		{"an endpoint of another region", ep(`region: us-east-1, hostname: vpce-0a1b-c2d3.s3.eu-west-2.vpce.amazonaws.com, buckets: [x1x]`),
			`endpoints[1].hostname: "vpce-0a1b-c2d3.s3.eu-west-2.vpce.amazonaws.com" is an endpoint in eu-west-2, but region is us-east-1`},
		{"a host name as a bucket", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x.s3.eu-west-2.amazonaws.com]`),
			`endpoints[1].buckets[0]: "x1x.s3.eu-west-2.amazonaws.com" is a host name, not a name to list: give "x1x"`},
		{"a glob with a character no bucket has", ep(`region: eu-west-2, hostname: a.b, buckets: ["logs_*"]`),
			`endpoints[1].buckets[0]: "logs_*" can never match: it holds '_', which no bucket or access point name has`},
		{"a glob longer than any bucket", ep(`region: eu-west-2, hostname: a.b, buckets: ["` + strings.Repeat("a", 64) + `*"]`),
			`can never match: every name it matches has at least 64 characters, and names have at most 63`},
		{"a prefix with host bits", "upstreams: [127.0.0.1]\naccess: {allow: [192.168.1.1/24]}\n",
			`access.allow[0]: "192.168.1.1/24" has host bits set: write the network 192.168.1.0/24, or the address 192.168.1.1/32 alone`},
		{"a named endpoint is named by its name", "upstreams: [127.0.0.1]\nendpoints:\n  - {name: s3-london, region: eu-west-2, hostname: vpce_bad, buckets: [x1x]}\n",
			`endpoints[s3-london].hostname: "vpce_bad" is not a valid DNS name`},
		{"no target", ep(`region: eu-west-2, buckets: [x1x]`), `endpoints[1]: needs a vpc_endpoint_id, a hostname or addresses`},
		{"bad vpc endpoint id", ep(`region: eu-west-2, vpc_endpoint_id: vpc-0a1b2c3d, buckets: [x1x]`), `endpoints[1].vpc_endpoint_id: "vpc-0a1b2c3d" is not a VPC endpoint id (vpce- and 8 or 17 hexadecimal digits)`},
		{"id without a region", ep(`vpc_endpoint_id: vpce-0a1b2c3d, buckets: [x1x]`), `endpoints[1].region: "" is not an AWS region name`},
		{"a directory bucket without its zone", ep(`service: s3express, region: us-east-1, hostname: a.b, buckets: [analytics--x-s3]`),
			`endpoints[1].buckets[0]: "analytics--x-s3" is not a valid directory bucket name (<base name>--<zone id>--x-s3`},
		{"an ordinary bucket on S3 Express", ep(`service: s3express, region: us-east-1, hostname: a.b, buckets: [analytics]`),
			`endpoints[1].buckets[0]: "analytics" is not a valid directory bucket name`},
		{"control on S3 Express", ep(`service: s3express, region: us-east-1, hostname: a.b, control: true`),
			`endpoints[1].control: is not for service: s3express: its control name (s3express-control.REGION) is always answered`},
		{"a region on a global service", ep(`service: s3-global.accesspoint, region: us-east-1, hostname: a.b, mraps: [mfzwi23gnjvgw]`),
			`endpoints[1].region: "us-east-1": service s3-global.accesspoint is global, its names carry no region: leave region out`},
		{"mraps on S3", ep(`region: us-east-1, hostname: a.b, buckets: [x1x], mraps: [mfzwi23gnjvgw]`),
			`endpoints[1].mraps: is only for service: s3-global.accesspoint, not "s3"`},
		{"a bad MRAP alias", ep(`service: s3-global.accesspoint, hostname: a.b, mraps: [Not_An.Alias]`),
			`endpoints[1].mraps[0]: "Not_An.Alias" is not a valid Multi-Region Access Point alias`},
		{"a fallback that is no endpoint", ep(`name: a, region: eu-west-2, hostname: a.b, buckets: [x1x], fallback: [nowhere]`),
			`endpoints[a].fallback[0]: "nowhere" is not the name of an endpoint`},
		{"a fallback of another region", "upstreams: [127.0.0.1]\nendpoints:\n  - {name: a, region: eu-west-2, hostname: a.b, buckets: [x1x], fallback: [b]}\n  - {name: b, region: us-east-1, hostname: c.d, buckets: [y1y]}\n",
			`endpoints[a].fallback[0]: "b" serves s3 in us-east-1, not s3 in eu-west-2: a fallback answers the same names`},
		{"a fallback that is itself", ep(`name: a, region: eu-west-2, hostname: a.b, buckets: [x1x], fallback: [a]`),
			`endpoints[a].fallback[0]: "a" is this endpoint itself`},
		{"a site with a bad client certificate name", "upstreams: [127.0.0.1]\nsites: [{name: dr, client_names: [\"not a name\"]}]\n",
			`sites[0].client_names[0]: "not a name" is not a certificate's DNS name`},
		{"a DoT upstream without its name", "upstreams: [\"tls://9.9.9.9\"]\n",
			`upstreams[0]: "tls://9.9.9.9" is not tls://IP[:PORT]#NAME`},
		{"a DoT upstream with a bad name", "upstreams: [\"tls://9.9.9.9#bad_name\"]\n",
			`upstreams[0]: "tls://9.9.9.9#bad_name": "bad_name" is not a DNS name to verify the certificate for`},
		{"bad zonal az", ep(`region: eu-west-2, hostname: a.b, zonal_hostnames: {west-2a: c.d}, buckets: [x1x]`), `endpoints[1].zonal_hostnames.west-2a: "west-2a" is not an Availability Zone name (like eu-west-2a) or id (like use1-az4)`},
		{"bad zonal hostname", ep(`region: eu-west-2, hostname: a.b, zonal_hostnames: {eu-west-2a: "c..d"}, buckets: [x1x]`), `endpoints[1].zonal_hostnames.eu-west-2a: "c..d" is not a valid DNS name`},
		{"bad aws region", "upstreams: [127.0.0.1]\naws: {region: london}\n", `aws.region: "london" is not an AWS region name`},
		{"bad aws endpoint url", "upstreams: [127.0.0.1]\naws: {endpoint_url: \"127.0.0.1:443\"}\n", `aws.endpoint_url: "127.0.0.1:443" is not an http:// or https:// URL`},
		{"unknown aws key", "upstreams: [127.0.0.1]\naws: {regoin: eu-west-2}\n", "aws.regoin: unknown key (did you mean `region`?)"},
		{"short discovery interval", "upstreams: [127.0.0.1]\ndiscovery: {interval: 100ms}\n", `discovery.interval: "100ms" must be at least 1s`},
		{"bad address", ep(`region: eu-west-2, addresses: [10.0.0.300], buckets: [x1x]`), `endpoints[1].addresses[0]: "10.0.0.300" is not an IP address`},
		{"bad glob", ep(`region: eu-west-2, hostname: a.b, buckets: ["logs-[a"]`), `endpoints[1].buckets[0]: "logs-[a" is not a valid glob pattern`},
		{"bad bucket", ep(`region: eu-west-2, hostname: a.b, buckets: ["x"]`), `endpoints[1].buckets[0]: "x" is not a valid bucket name (3–63 characters of lower-case letters, digits, dots and hyphens`},
		{"duplicate bucket", ep(`region: eu-west-2, hostname: a.b, buckets: [B1B]`), `endpoints[1].buckets[0]: "b1b" is already listed on endpoints[0]`},
		{"bad access point", ep(`region: eu-west-2, hostname: a.b, access_points: [ap]`), `endpoints[1].access_points[0]: "ap" is not a valid access point`},
		{"bad answer", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], answer: rpz`), `endpoints[1].answer: "rpz" is not one of cname, alias`},
		{"bad on_unresolved", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], on_unresolved: retry`), `endpoints[1].on_unresolved: "retry" is not one of cname, public, servfail`},
		{"bad ttl", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], ttl: soon`), `endpoints[1].ttl: "soon" is not a duration`},
		{"zero ttl", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], ttl: 0`), `endpoints[1].ttl: "0" must be at least 1s`},
		{"unknown endpoint key", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], bukets: [y]`), "endpoints[1].bukets: unknown key (did you mean `buckets`?)"},
		{"unknown top key", "upstreams: [127.0.0.1]\nlisten_addr: x\n", `listen_addr: unknown key`},
		{"misspelt top key", "upstream: [127.0.0.1]\n", "upstream: unknown key (did you mean `upstreams`?)"},
		{"unknown nested key", "upstreams: [127.0.0.1]\ncache: {size: 1}\n", `cache.size: unknown key`},
		{"misspelt nested key", "upstreams: [127.0.0.1]\ncache: {max_entires: 1}\n", "cache.max_entires: unknown key (did you mean `max_entries`?)"},
		{"section not a map", "upstreams: [127.0.0.1]\ncache: 5\n", `cache: must be a mapping`},
		{"bad cidr", "upstreams: [127.0.0.1]\naccess: {allow: [10.0.0.0/33]}\n", `access.allow[0]: "10.0.0.0/33" is not a CIDR prefix or IP address`},
		{"bad duration", "upstreams: [127.0.0.1]\nupstream_timeout: fast\n", `upstream_timeout: "fast" is not a duration`},
		{"negative duration", "upstreams: [127.0.0.1]\ncache: {serve_stale: -5s}\n", `cache.serve_stale: "-5s" must not be negative`},
		{"bad listen", "upstreams: [127.0.0.1]\nlisten: [localhost]\n", `listen[0]: "localhost" is not host:port`},
		{"listen hostname", "upstreams: [127.0.0.1]\nlisten: [\"example.com:53\"]\n", `listen[0]: "example.com:53": the host must be an IP address`},
		{"listen on every address beside one family", "upstreams: [127.0.0.1]\nlisten: [\":53\", \"[::]:53\"]\n",
			`listen[1]: "[::]:53" cannot be bound beside ":53": ":53" already takes port 53 on every address, IPv4 and IPv6`},
		{"listen on 0.0.0.0 beside an IPv4 address", "upstreams: [127.0.0.1]\nlisten: [\"10.0.0.53:53\", \"0.0.0.0:53\"]\n",
			`listen[1]: "0.0.0.0:53" cannot be bound beside "10.0.0.53:53": 0.0.0.0 already takes port 53 on every IPv4 address`},
		{"listen on [::] beside an IPv6 address", "upstreams: [127.0.0.1]\nlisten: [\"[::]:53\", \"[::1]:53\"]\n",
			`listen[1]: "[::1]:53" cannot be bound beside "[::]:53": :: already takes port 53 on every IPv6 address`},
		{"bad upstream", "upstreams: [dns.example.com]\n", `upstreams[0]: "dns.example.com" is not an IP address, IP:port or tls://IP[:PORT]#NAME`},
		{"bad upstream port", "upstreams: [\"127.0.0.1:99999\"]\n", `upstreams[0]: "127.0.0.1:99999" has an invalid port`},
		{"audit interval below a second", "upstreams: [127.0.0.1]\naudit: {interval: 500ms}\n", `audit.interval: "500ms" must be 0 (off) or at least 1s`},
		{"audit interval not a duration", "upstreams: [127.0.0.1]\naudit: {interval: hourly}\n", `audit.interval: "hourly" is not a duration`},
		{"bad log level", "upstreams: [127.0.0.1]\nlog: {level: loud}\n", `log.level: "loud" is not one of debug, info, warn, error`},
		{"bad log format", "upstreams: [127.0.0.1]\nlog: {format: xml}\n", `log.format: "xml" is not one of text, json`},
		{"negative cache", "upstreams: [127.0.0.1]\ncache: {max_entries: -1}\n", `cache.max_entries: -1 must not be negative`},
		{"bad stale timer", "upstreams: [127.0.0.1]\ncache: {stale_answer_timeout: soon}\n", `cache.stale_answer_timeout: "soon" is not a duration`},
		{"negative recheck", "upstreams: [127.0.0.1]\ncache: {stale_recheck: -1s}\n", `cache.stale_recheck: "-1s" must not be negative`},
		{"zero tcp_per_client", "upstreams: [127.0.0.1]\naccess: {tcp_per_client: 0}\n", `access.tcp_per_client: 0 must be at least 1`},
		{"short tcp idle timeout", "upstreams: [127.0.0.1]\ntcp: {idle_timeout: 10ms}\n", `tcp.idle_timeout: "10ms" must be at least 100ms`},
		{"tcp idle timeout past keepalive", "upstreams: [127.0.0.1]\ntcp: {idle_timeout: 3h}\n", `tcp.idle_timeout: "3h" is more than edns-tcp-keepalive can tell`},
		{"bad tcp write timeout", "upstreams: [127.0.0.1]\ntcp: {write_timeout: never}\n", `tcp.write_timeout: "never" is not a duration`},
		{"zero tcp max_queued", "upstreams: [127.0.0.1]\ntcp: {max_queued: 0}\n", `tcp.max_queued: 0 must be at least 1`},
		{"unknown tcp key", "upstreams: [127.0.0.1]\ntcp: {keepalive: 5s}\n", `tcp.keepalive: unknown key`},
		{"two dnstap outputs", "upstreams: [127.0.0.1]\ndnstap: {file: /tmp/x, tcp: \"127.0.0.1:6000\"}\n", `dnstap: give one of socket, tcp and file, not 2`},
		{"bad dnstap tcp", "upstreams: [127.0.0.1]\ndnstap: {tcp: collector}\n", `dnstap.tcp: "collector" is not IP:port`},
		{"bad dnstap message", "upstreams: [127.0.0.1]\ndnstap: {file: /tmp/x, messages: [resolver_query]}\n", `dnstap.messages[0]: "resolver_query" is not one of client_query`},
		{"unknown dnstap key", "upstreams: [127.0.0.1]\ndnstap: {path: /tmp/x}\n", `dnstap.path: unknown key`},
		{"unknown health key", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], health: {every: 5s}`), `endpoints[1].health.every: unknown key`},
		{"bad health port", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], health: {port: 70000}`), `endpoints[1].health.port: 70000 is not between 1 and 65535`},
		{"health timeout past interval", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], health: {interval: 1s, timeout: 2s}`), `endpoints[1].health.timeout: "2s" is longer than the interval`},
		{"bad on_unhealthy", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], health: {}, on_unhealthy: retry`), `endpoints[1].on_unhealthy: "retry" is not one of keep, public, servfail`},
		{"bad yaml", "upstreams: [127.0.0.1\n", `yaml`},
		{"not a number", "upstreams: [127.0.0.1]\ncache: {max_entries: lots}\n", `cache.max_entries: "lots" is not a whole number`},
		{"not a bool", ep(`region: eu-west-2, hostname: a.b, buckets: [x1x], path_style: maybe`), `endpoints[1].path_style: "maybe" is not true or false`},
		{"list of the wrong things", ep(`region: eu-west-2, hostname: a.b, buckets: {a: 1}`), `endpoints[1].buckets[0]: expected type 'string'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.yaml)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEveryErrorReportedAtOnce(t *testing.T) {
	_, _, err := load(t, "upstreams: [nope]\nupstream_timeout: x\nendpoints: [{region: nowhere, hostname: vpce_bad}]\nextra: 1\n")
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("err = %T %v", err, err)
	}
	for _, want := range []string{"extra: unknown key", "upstreams[0]", "upstream_timeout", "endpoints[0].region", "endpoints[0].hostname"} {
		if !strings.Contains(errs.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, errs)
		}
	}
}

// A value of the wrong shape does not hide the other problems: one run of
// validate lists them all, and says nothing untrue about the bad value.
func TestDecodeErrorsDoNotHideTheRest(t *testing.T) {
	_, _, err := load(t, "upstreams: [nope]\ncache: {max_entries: lots}\naccess: {tcp_per_client: many}\n"+
		"endpoints: [{region: eu-west-2, hostname: vpce_bad, buckets: [x1x], path_style: maybe}]\n")
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{`cache.max_entries: "lots" is not a whole number`, `access.tcp_per_client: "many" is not a whole number`,
		`endpoints[0].path_style: "maybe" is not true or false`, `upstreams[0]`, `endpoints[0].hostname`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%v", want, got)
		}
	}
	if strings.Contains(got, "tcp_per_client: 0 must be at least 1") {
		t.Errorf("a zero the decoder left behind was reported:\n%v", got)
	}
}

// A dotted bucket is only worth a warning when path_style does not already
// send its path-style requests to the endpoint.
func TestDottedBucketWarning(t *testing.T) {
	for _, c := range []struct {
		pathStyle string
		warned    bool
	}{{"false", true}, {"true", false}} {
		_, warnings, err := load(t, "upstreams: [127.0.0.1]\nendpoints: [{region: eu-west-2, hostname: vpce-1.s3.eu-west-2.vpce.amazonaws.com, buckets: [my.bucket], path_style: "+c.pathStyle+"}]\n")
		if err != nil {
			t.Fatal(err)
		}
		if warned := strings.Contains(strings.Join(warnings, "\n"), "contains a dot"); warned != c.warned {
			t.Errorf("path_style %s: warned %v, want %v (%v)", c.pathStyle, warned, c.warned, warnings)
		}
	}
}

func TestEndpointsEnvMustBeAList(t *testing.T) {
	t.Setenv("S3DNS_ENDPOINTS", `{region: [`)
	_, _, err := load(t, "upstreams: [127.0.0.1]\n")
	if err == nil || !strings.Contains(err.Error(), "endpoints:") {
		t.Fatalf("err = %v", err)
	}
}

// health: {} is off; any key turns probing on, the others taking defaults.
func TestHealthDefaults(t *testing.T) {
	const host = "hostname: vpce-1.s3.eu-west-2.vpce.amazonaws.com, buckets: [b1b]"
	cfg, _, err := load(t, "upstreams: [127.0.0.1]\nendpoints:\n  - {region: eu-west-2, "+host+", health: {}}\n"+
		"  - {region: eu-west-2, hostname: vpce-2.s3.eu-west-2.vpce.amazonaws.com, buckets: [c1c], health: {port: 8443}, on_unhealthy: SERVFAIL}\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoints[0].Health != nil || cfg.Endpoints[0].OnUnhealthy != model.UnhealthyKeep {
		t.Fatalf("health: {} is off: %+v", cfg.Endpoints[0])
	}
	want := model.HealthCheck{Interval: 5 * time.Second, Timeout: time.Second, Port: 8443, Fall: 3, Rise: 2}
	if h := cfg.Endpoints[1].Health; h == nil || *h != want || cfg.Endpoints[1].OnUnhealthy != model.UnhealthyServfail {
		t.Fatalf("health %+v, on_unhealthy %q", h, cfg.Endpoints[1].OnUnhealthy)
	}
}

// Issue 18: names default to <service>-<region>, suffixed when repeated,
// never taking a name the file gives; a hostname pasted from the console
// loses its "*." with a note; an S3DNS_* variable that sets nothing is a
// warning; an endpoint whose only bucket was rejected gets no "answers no
// names" warning on top of the error.
func TestEndpointNamesAndHelpfulMessages(t *testing.T) {
	cfg, warnings, err := load(t, `upstreams: [127.0.0.1]
endpoints:
  - {region: eu-west-2, hostname: "*.vpce-1.s3.eu-west-2.vpce.amazonaws.com", buckets: [b1b]}
  - {region: eu-west-2, hostname: a.b, buckets: [b2b]}
  - {name: s3-eu-west-2-3, region: eu-west-2, hostname: a.b, buckets: [b3b]}
  - {region: eu-west-2, hostname: a.b, buckets: [b4b]}
  - {region: us-east-1, service: sts, hostname: a.b}
`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range cfg.Endpoints {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "s3-eu-west-2 s3-eu-west-2-2 s3-eu-west-2-3 s3-eu-west-2-4 sts-us-east-1" {
		t.Fatalf("names: %s", got)
	}
	if cfg.Endpoints[0].Hostname != "vpce-1.s3.eu-west-2.vpce.amazonaws.com." {
		t.Fatalf("hostname: %q", cfg.Endpoints[0].Hostname)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), `endpoints[0].hostname: note: the leading "*." is dropped`) {
		t.Fatalf("no note about the wildcard: %v", warnings)
	}

	t.Setenv("S3DNS_UPSTREAM", "127.0.0.1")
	_, warnings, err = load(t, "upstreams: [127.0.0.1]\nendpoints:\n  - {region: eu-west-2, hostname: a.b, buckets: [\"x\"]}\n")
	if err == nil || !strings.Contains(err.Error(), `"x" is not a valid bucket name`) {
		t.Fatalf("bad bucket: %v", err)
	}
	all := strings.Join(warnings, "\n")
	if strings.Contains(all, "answers no names") {
		t.Fatalf("an 'answers no names' warning on top of the bucket error: %v", warnings)
	}
	if !strings.Contains(all, "S3DNS_UPSTREAM: environment variable sets no configuration key; it is ignored (did you mean `S3DNS_UPSTREAMS`?)") {
		t.Fatalf("no warning about S3DNS_UPSTREAM: %v", warnings)
	}
}

// Errors about the file carry its name, line and column, as named-checkconf
// gives them; a YAML syntax error its line counted from 1 (issue 31,
// item 7).
func TestErrorsCarryFileLineAndColumn(t *testing.T) {
	_, _, err := load(t, "upstreams: [127.0.0.1]\ncache:\n  max_ttl: forever\nendpoints:\n  - name: s3-london\n    region: eu-west-2\n    hostname: vpce_bad\n")
	for _, want := range []string{":3:3: cache.max_ttl: ", ":7:5: endpoints[s3-london].hostname: "} {
		found := false
		for _, m := range Messages(err) {
			if strings.Contains(m, want) && strings.HasSuffix(strings.Split(m, ":")[0], ".yaml") {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at %q: %q", want, Messages(err))
		}
	}
	for yaml, line := range map[string]string{
		"upstreams: [127.0.0.1]\nendpoints:\n  - region: eu-west-2\n    hostname: [a\n    buckets: [x]\n": ":4: YAML syntax: did not find expected",
		"upstreams: [127.0.0.1]\ncache:\n  max_ttl: 5m\n   negative: 1\n":                                 ":4: YAML syntax: mapping values are not allowed",
	} {
		if _, _, err := load(t, yaml); err == nil || !strings.Contains(err.Error(), line) {
			t.Errorf("syntax error: %v, want %q", err, line)
		}
	}
}
