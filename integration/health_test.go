package integration

import (
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// Endpoint health with the built binary: /status and `s3dns status` show a
// closed interface down, and BIND and Unbound in front — configured by
// export, which forwards the endpoint's hostname too when health is on —
// hand out only the healthy address.
func TestEndpointHealthThroughResolvers(t *testing.T) {
	t.Parallel()
	// The endpoint's interfaces: TCP listeners on two loopback addresses, one port.
	live := dnstest.Accepting(t, "tcp", "127.0.0.31:0")
	_, port, _ := net.SplitHostPort(live.Addr().String()) // nothing listens on 127.0.0.32 at that port
	const host = "vpce-0999-health.s3.eu-west-2.vpce.amazonaws.com."
	public := dnstest.NewUpstream(t, host+" 60 IN A 127.0.0.31", host+" 60 IN A 127.0.0.32",
		"otherbucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.80")
	probed := endpoint{Region: "eu-west-2", Hostname: host, Buckets: []string{"myspecificbucket"},
		Health: map[string]any{"interval": "100ms", "timeout": "50ms", "port": port, "fall": 2, "rise": 2}}
	s := s3dnsFor(t, public.Addr, []endpoint{probed})

	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := s.get("/status")
		var st struct {
			Endpoints []struct {
				Endpoint  string
				Addresses []struct {
					Address string
					Up      bool
				}
			}
		}
		if code == 200 && json.Unmarshal([]byte(body), &st) == nil && len(st.Endpoints) == 1 && len(st.Endpoints[0].Addresses) == 2 &&
			!st.Endpoints[0].Addresses[1].Up && st.Endpoints[0].Addresses[0].Up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status never showed 127.0.0.32 down: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := exec.Command(builtBinary(t), "status", "--http", s.http).CombinedOutput()
	if err != nil || !regexpMatch(`s3-eu-west-2\s+s3\s+`+strings.ReplaceAll(host, ".", `\.`)+`\s+127\.0\.0\.32:`+port+`\s+DOWN`, string(out)) ||
		!regexpMatch(`127\.0\.0\.31:`+port+`\s+up`, string(out)) {
		t.Fatalf("s3dns status: %v\n%s", err, out)
	}
	if got := addrs(ask(t, s.dns, listedName, dns.TypeA)); !slices.Equal(got, []string{"127.0.0.31"}) {
		t.Fatalf("s3dns itself: %v", got)
	}

	cfg := exportConfig(t, probed)
	bindZones := export(t, "--format", "bind", "--config", cfg, "--server", s.dns)
	unboundServer, unboundZones := splitUnbound(export(t, "--format", "unbound", "--config", cfg, "--server", s.dns))
	if !strings.Contains(bindZones, `zone "`+strings.TrimSuffix(host, ".")+`"`) {
		t.Fatalf("export does not forward the endpoint hostname with health on:\n%s", bindZones)
	}
	for name, r := range map[string]*resolver{
		"BIND":    startNamed(t, public.Addr, "", bindZones),
		"Unbound": startUnbound(t, public.Addr, unboundServer, unboundZones),
	} {
		if got := addrs(ask(t, r.addr, listedName, dns.TypeA)); !slices.Equal(got, []string{"127.0.0.31"}) {
			t.Errorf("%s in front: %v, want the healthy address only", name, got)
		}
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// A reload that changes the health check restarts probing with it; one
// that leaves it alone keeps what was learnt.
func TestEndpointHealthReload(t *testing.T) {
	t.Parallel()
	live := dnstest.Accepting(t, "tcp", "127.0.0.33:0")
	_, port, _ := net.SplitHostPort(live.Addr().String())
	const host = "vpce-0888-reload.s3.eu-west-2.vpce.amazonaws.com."
	public := dnstest.NewUpstream(t, host+" 60 IN A 127.0.0.33")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	write := func(port string) {
		writeConfigTo(t, file, fileConfig{Upstreams: []string{public.Addr}, Endpoints: []endpoint{{Region: "eu-west-2", Hostname: host,
			Buckets: []string{"myspecificbucket"}, Health: map[string]any{"interval": "100ms", "timeout": "50ms", "port": port, "fall": 2, "rise": 2}}}})
	}
	state := func(p *process) (string, bool) {
		_, body := p.get("/status")
		var st struct {
			Endpoints []struct {
				Port      int
				Addresses []struct{ Up bool }
			}
		}
		if json.Unmarshal([]byte(body), &st) != nil || len(st.Endpoints) != 1 || len(st.Endpoints[0].Addresses) != 1 {
			return "", false
		}
		return strconv.Itoa(st.Endpoints[0].Port), st.Endpoints[0].Addresses[0].Up
	}
	waitFor := func(p *process, port string, up bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if gotPort, gotUp := state(p); gotPort == port && gotUp == up {
				return
			}
			if time.Now().After(deadline) {
				_, body := p.get("/status")
				t.Fatalf("never port %s up=%v:\n%s", port, up, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	closed := strconv.Itoa(freeTCPPort(t))
	write(closed) // nothing listens there: down
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file)
	waitFor(p, closed, false)
	write(port) // the right port: probing restarts and finds it up
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(p, port, true)
	if got := addrs(ask(t, p.dns, listedName, dns.TypeA)); !slices.Equal(got, []string{"127.0.0.33"}) {
		t.Fatalf("after the reload: %v", got)
	}
}

// freeTCPPort is a port nothing listens on at 127.0.0.33.
func freeTCPPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.33:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// While every address of an endpoint is down its fallback answers, and the
// built binary says so everywhere an operator looks: the reply, the log,
// /status, `s3dns status` and s3dns_requests_total{endpoint}.
func TestFallbackShowsWhoAnswered(t *testing.T) {
	t.Parallel()
	closed := strconv.Itoa(freeTCPPort(t)) // nothing listens: every address is down
	const host = "vpce-0777-own.s3.eu-west-2.vpce.amazonaws.com."
	const crossRegion = "vpce-0666-cross.s3.eu-west-2.vpce.amazonaws.com."
	public := dnstest.NewUpstream(t, host+" 60 IN A 127.0.0.33", crossRegion+" 60 IN A 127.0.0.34")
	own := endpoint{Name: "s3-london", Region: "eu-west-2", Hostname: host, Buckets: []string{"myspecificbucket"},
		Health:   map[string]any{"interval": "100ms", "timeout": "50ms", "port": closed, "fall": 1, "rise": 1},
		Fallback: []string{"s3-london-via-paris"}}
	other := endpoint{Name: "s3-london-via-paris", Region: "eu-west-2", Hostname: crossRegion}
	s := s3dnsFor(t, public.Addr, []endpoint{own, other}, "--log-queries")

	dnstest.WaitFor(t, "the fallback's answer", 10*time.Second, func() bool {
		resp := ask(t, s.dns, listedName, dns.TypeA)
		return len(resp.Answer) > 0 && resp.Answer[0].(*dns.CNAME).Target == crossRegion
	})
	_, body := s.get("/status")
	var st struct {
		Endpoints []struct {
			Endpoint   string `json:"endpoint"`
			AnsweredBy string `json:"answered_by"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Endpoints) != 1 || st.Endpoints[0].AnsweredBy != other.Name {
		t.Errorf("/status does not say the fallback answers: %v %s", err, body)
	}
	out, err := exec.Command(builtBinary(t), "status", "--http", s.http).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "s3-london: every address is down; its fallback s3-london-via-paris answers its names") {
		t.Errorf("s3dns status: %v\n%s", err, out)
	}
	_, metrics := s.get("/metrics")
	if !regexpMatch(`s3dns_requests_total\{action="endpoint",endpoint="s3-london-via-paris",proto="udp",qtype="A",transport="udp"\} [1-9]`, metrics) {
		t.Errorf("no s3dns_requests_total for the fallback:\n%s", grepLines(metrics, "s3dns_requests_total"))
	}
	logs := s.stderr.String()
	for _, want := range []string{`msg="every address of the endpoint is down: its fallback answers its names" endpoint=s3-london fallback=s3-london-via-paris`,
		`action=endpoint rcode=NOERROR`, `endpoint=s3-london-via-paris`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %s:\n%s", want, logs)
		}
	}
}
