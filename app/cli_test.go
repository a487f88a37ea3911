package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(args, IO{Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func configFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s3dns.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const sample = `
upstreams: ["127.0.0.1:53"]
endpoints:
  - region: eu-west-2
    hostname: vpce-0a1b.s3.eu-west-2.vpce.amazonaws.com
    buckets: ["myspecificbucket", "logs-*", "my.dotted.bucket"]
  - region: us-east-1
    addresses: [10.0.0.5]
    buckets: ["*"]
    answer: alias
  - region: eu-west-2
    service: ecr.dkr
    hostname: vpce-0c3d.dkr.ecr.eu-west-2.vpce.amazonaws.com
    health: {port: 8443}
    on_unhealthy: servfail
`

func TestValidateSummary(t *testing.T) {
	code, out, errOut := run(t, "validate", "--config", configFile(t, sample))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"s3-eu-west-2 (endpoints[0]) service s3, region eu-west-2: CNAME to vpce-0a1b.s3.eu-west-2.vpce.amazonaws.com. with its records",
		"takes myspecificbucket.s3.eu-west-2.amazonaws.com",
		"takes logs-*.s3.eu-west-2.amazonaws.com",
		"s3-us-east-1 (endpoints[1]) service s3, region us-east-1: answers its static addresses under the asked name",
		"takes s3.us-east-1.amazonaws.com (path-style requests)",
		"ecr.dkr-eu-west-2 (endpoints[2]) service ecr.dkr, region eu-west-2: CNAME to vpce-0c3d.dkr.ecr.eu-west-2.vpce.amazonaws.com.",
		"takes *.dkr.ecr.eu-west-2.amazonaws.com",
		"serve-stale 0s (stale answer after 1.8s, recheck after a failure 30s)",
		"at most 32 TCP connections per client",
		"dnstap: off",
		"health: TCP to port 8443 every 5s (timeout 1s), down after 3 failures, up after 2; with none up: servfail",
		"configuration OK",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, `warning: endpoints[0].buckets[2]: "my.dotted.bucket" contains a dot`) {
		t.Errorf("no dotted-bucket warning: %s", errOut)
	}
}

func TestValidateListsEveryError(t *testing.T) {
	code, out, errOut := run(t, "validate", "--config", configFile(t,
		"upstreams: [nope]\nendpoints: [{region: eu-west-2, hostname: vpce_bad, buckets: [ok-bucket]}, {region: eu-west-2, buckets: [ok-bucket]}]\n"))
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{
		`upstreams[0]: "nope" is not an IP address, IP:port or tls://IP[:PORT]#NAME`,
		`endpoints[0].hostname: "vpce_bad" is not a valid DNS name`,
		`endpoints[1]: needs a vpc_endpoint_id, a hostname or addresses`,
		`endpoints[1].buckets[0]: "ok-bucket" is already listed on endpoints[0]`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestExplain(t *testing.T) {
	file := configFile(t, sample)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"MySpecificBucket.s3.eu-west-2.amazonaws.com"}, []string{
			"endpoint: s3-eu-west-2 (endpoints[0], service s3, region eu-west-2)", `rule: buckets: "myspecificbucket" (exact)`,
			"CNAME vpce-0a1b.s3.eu-west-2.vpce.amazonaws.com.", "the A records of vpce-0a1b"}},
		{[]string{"logs-1.s3.eu-west-2.amazonaws.com", "AAAA"}, []string{`rule: buckets: "logs-*" (glob)`, "AAAA records"}},
		{[]string{"x.s3-fips.eu-west-2.amazonaws.com"}, []string{"FIPS names are not served by PrivateLink", "forwarded to the upstreams"}},
		{[]string{"other.s3.eu-west-2.amazonaws.com"}, []string{"bucket other is not listed for region eu-west-2", "forwarded"}},
		{[]string{"anything.s3.us-east-1.amazonaws.com", "MX"}, []string{`rule: buckets: "*"`, "NOERROR with no records and the SOA of s3.us-east-1.amazonaws.com."}},
		{[]string{"anything.s3.us-east-1.amazonaws.com", "A"}, []string{"the static A addresses"}},
		{[]string{"123456789012.dkr.ecr.eu-west-2.amazonaws.com"}, []string{"endpoint: ecr.dkr-eu-west-2 (endpoints[2], service ecr.dkr, region eu-west-2)",
			`rule: service ecr.dkr: "*.dkr.ecr.eu-west-2.amazonaws.com"`, "CNAME vpce-0c3d.dkr.ecr.eu-west-2.vpce.amazonaws.com.",
			"health: decided at run time", "on_unhealthy: servfail"}},
		{[]string{"api.ecr.eu-west-2.amazonaws.com"}, []string{"not answered by an endpoint", "forwarded"}},
	}
	for _, tc := range cases {
		code, out, errOut := run(t, append(append([]string{"explain"}, tc.args...), "--config", file)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", tc.args, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	if code, _, _ := run(t, "explain", "--config", file); code != 2 {
		t.Errorf("explain without a name: exit %d", code)
	}
	if code, _, _ := run(t, "explain", "a.example", "NOTATYPE", "--config", file); code != 2 {
		t.Errorf("explain with a bad type: exit %d", code)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "s3dns ") || !strings.Contains(out, "go1.") || !strings.Contains(out, ", built ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, flagOut, _ := run(t, "--version"); code != 0 || flagOut != out {
		t.Fatalf("--version: %d %q, want what version prints", code, flagOut)
	}
	if code, _, errOut := run(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
}

// An unknown flag, a flag without its value, an argument too many or one
// missing: what is wrong and the usage on stderr, exit 2, never silent.
func TestUsageErrorsSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"validate", "--cache-max-entires", "5"}, "unknown flag: --cache-max-entires"},
		{[]string{"validate", "--listen"}, "flag needs an argument: --listen"},
		{[]string{"version", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"validate", "s3dns.yaml"}, `unexpected arguments ["s3dns.yaml"]`},
		{[]string{"explain", "a.example.", "A", "more"}, `unexpected arguments ["more"]`},
		{[]string{"explain"}, "a NAME is needed"},
		{[]string{"explain", "bad name!"}, `"bad name!" is not a DNS name a client could ask: it holds ' '`},
		{[]string{"export", "bind"}, `unexpected arguments ["bind"]`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, c.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "usage: s3dns") {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2, %q and the usage", code, out, errOut, c.want)
			}
			// The cause, the usage line and a pointer at --help: not a page.
			if lines := strings.Count(errOut, "\n"); lines > 3 || !strings.Contains(errOut, "--help' for") {
				t.Fatalf("%d lines for one usage error:\n%s", lines, errOut)
			}
		})
	}
}

func TestServeRefusesBadConfigBeforeBinding(t *testing.T) {
	code, _, errOut := run(t, "serve", "--config", configFile(t, "upstreams: [127.0.0.1]\ncache: {max_ttl: forever}\n"))
	if code != 1 || !strings.Contains(errOut, `cache.max_ttl: "forever" is not a duration`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestHumanDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 5 * time.Minute: "5m", 90 * time.Second: "1m30s", 2 * time.Second: "2s", 0: "0s", 300 * time.Millisecond: "300ms"} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}

// Completion scripts come from the command tree: each shell's names the
// commands and flags that exist.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_s3dns", "zsh": "#compdef s3dns", "fish": "complete -c s3dns"} {
		code, out, errOut := run(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, %q…, stderr %s", shell, code, out[:min(len(out), 80)], errOut)
		}
	}
	// What the shell asks at run time: commands, then a command's typed flags.
	_, out, _ := run(t, "__complete", "disc")
	if !strings.Contains(out, "discover") {
		t.Errorf("completing disc: %q", out)
	}
	_, out, _ = run(t, "__complete", "validate", "--cache-max")
	if !strings.Contains(out, "--cache-max-entries") || !strings.Contains(out, "--cache-max-ttl") {
		t.Errorf("completing --cache-max: %q", out)
	}
	if code, _, errOut := run(t, "completion", "tcsh"); code != 2 || !strings.Contains(errOut, "tcsh") {
		t.Errorf("completion tcsh: exit %d, %s", code, errOut)
	}
}

const sitesConfig = `upstreams: [127.0.0.1]
sites:
  - {name: london-dc, clients: ["10.1.0.0/16"], zone: eu-west-2a}
  - name: branch
    clients: ["10.2.0.0/16"]
    endpoints: [{name: s3-london, buckets: ["backup-*"]}]
  - {name: dr, clients: ["10.3.0.0/16"], public: true}
endpoints:
  - name: s3-london
    region: eu-west-2
    hostname: vpce-0a1b-abcd.s3.eu-west-2.vpce.amazonaws.com
    zonal_hostnames: {eu-west-2a: vpce-0a1b-abcd-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com}
    buckets: [data, "backup-*"]
`

func TestExplainAndValidateSites(t *testing.T) {
	file := configFile(t, sitesConfig)
	code, out, errOut := run(t, "validate", "--config", file)
	if code != 0 || !strings.Contains(out, "branch (sites[1]) clients 10.2.0.0/16: served only by s3-london buckets [backup-*]") ||
		!strings.Contains(out, "dr (sites[2]) clients 10.3.0.0/16: public: everything forwarded") {
		t.Errorf("validate: exit %d\n%s%s", code, out, errOut)
	}
	for client, want := range map[string][]string{
		"10.1.0.5": {"site: london-dc (10.1.0.0/16 holds 10.1.0.5)", "zone: eu-west-2a: the CNAME goes to vpce-0a1b-abcd-eu-west-2a."},
		"10.2.0.5": {"site: branch", "not answered by an endpoint: bucket data is not listed"},
		"10.3.0.5": {"site: dr", "site dr is public"},
		"10.9.0.1": {"10.9.0.1 is in no site's clients: the top-level policy", "rule: buckets: \"data\" (exact)"},
	} {
		code, out, errOut := run(t, "explain", "data.s3.eu-west-2.amazonaws.com", "--client", client, "--config", file)
		for _, w := range want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("--client %s: exit %d, output lacks %q:\n%s%s", client, code, w, out, errOut)
			}
		}
	}
	if code, _, errOut := run(t, "explain", "data.s3.eu-west-2.amazonaws.com", "--client", "branch", "--config", file); code != 2 || !strings.Contains(errOut, "not an IP address") {
		t.Errorf("--client branch: exit %d %s", code, errOut)
	}
	if code, out, _ := run(t, "export", "--format", "unbound", "--site", "dr", "--config", file, "--server", "10.0.0.40"); code != 0 || strings.Contains(out, "forward-zone") || !strings.Contains(out, "site dr is public") {
		t.Errorf("export --site dr: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "export", "--format", "unbound", "--config", file, "--server", "10.0.0.40"); code != 0 ||
		!strings.Contains(out, "send-client-subnet: 10.0.0.40") || !strings.Contains(out, "max-client-subnet-ipv4: 16") ||
		!strings.Contains(out, `name: "vpce-0a1b-abcd-eu-west-2a.s3.eu-west-2.vpce.amazonaws.com."`) {
		t.Errorf("export with sites: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "export", "--format", "bind", "--site", "nope", "--config", file); code != 2 || !strings.Contains(errOut, `"nope" is not a site (london-dc, branch, dr)`) {
		t.Errorf("export --site nope: exit %d %s", code, errOut)
	}
}

// Issue 31, item 8: boolean flags alone and with =false, or with their value
// as the next word as before; "did you mean" for a mistyped command; help
// for an unknown command is a usage error; completion knows values.
func TestCommandLineAsOperatorsTypeIt(t *testing.T) {
	file := configFile(t, sitesConfig)
	for _, args := range [][]string{
		{"validate", "--config", file, "--log-queries"},
		{"validate", "--config", file, "--log-queries=false"},
		{"validate", "--config", file, "--log-queries", "true"},
		{"export", "--config", file, "--format", "bind", "--server", "10.0.0.53", "--per-bucket"},
		{"export", "--config", file, "--format", "bind", "--server", "10.0.0.53", "--per-bucket", "true"},
		{"export", "--config", file, "--format", "bind", "--server", "10.0.0.53", "--per-bucket=false"},
	} {
		if code, _, errOut := run(t, args...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, "valdate"); code != 2 || !strings.Contains(errOut, `unknown command "valdate" (did you mean "validate"?)`) {
		t.Errorf("valdate: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "help", "valdate"); code != 2 || !strings.Contains(errOut, `did you mean "validate"?`) {
		t.Errorf("help valdate: exit %d: %s", code, errOut)
	}
	if code, out, _ := run(t, "help", "export"); code != 0 || !strings.Contains(out, "usage: s3dns export") {
		t.Errorf("help export: exit %d: %s", code, out)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "export", "--format", ""}, []string{"bind", "unbound", "windows", "rpz"}},
		{[]string{"__complete", "validate", "--log-level", ""}, []string{"debug", "info", "warn", "error"}},
		{[]string{"__complete", "validate", "--log-format", ""}, []string{"text", "json"}},
		{[]string{"__complete", "export", "--config", file, "--site", ""}, []string{"london-dc", "branch", "dr"}},
	} {
		_, out, _ := run(t, c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%v: %q lacks %q", c.args, out, w)
			}
		}
	}
}
