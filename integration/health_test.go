package integration

import (
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
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
	// The endpoint's interfaces: TCP listeners on two loopback addresses, one port.
	live, err := net.Listen("tcp", "127.0.0.31:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	go func() {
		for {
			c, err := live.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(live.Addr().String()) // nothing listens on 127.0.0.32 at that port
	const host = "vpce-0999-health.s3.eu-west-2.vpce.amazonaws.com."
	public := dnstest.NewUpstream(t, host+" 60 IN A 127.0.0.31", host+" 60 IN A 127.0.0.32",
		"otherbucket.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.80")
	endpoints := "  - region: eu-west-2\n    hostname: " + host + "\n    buckets: [myspecificbucket]\n" +
		"    health: {interval: 100ms, timeout: 50ms, port: " + port + ", fall: 2, rise: 2}\n"
	s := s3dnsFor(t, public.Addr, endpoints)

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
	out, err := exec.Command(binary, "status", "--http", s.http).CombinedOutput()
	if err != nil || !regexpMatch(`endpoints\[0\]\s+s3\s+`+strings.ReplaceAll(host, ".", `\.`)+`\s+127\.0\.0\.32:`+port+`\s+DOWN`, string(out)) ||
		!regexpMatch(`127\.0\.0\.31:`+port+`\s+up`, string(out)) {
		t.Fatalf("s3dns status: %v\n%s", err, out)
	}
	if got := addrs(ask(t, s.dns, listedName, dns.TypeA)); !slices.Equal(got, []string{"127.0.0.31"}) {
		t.Fatalf("s3dns itself: %v", got)
	}

	cfg := configWith(t, "endpoints:\n"+endpoints)
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
