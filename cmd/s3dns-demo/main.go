// Command s3dns-demo runs s3dns on loopback with everything it needs and
// nothing else: a fake public DNS and a fake EC2 API (the recorded S3 and
// STS endpoints of internal/fakeec2), so that the README's walk-through
// and `s3dns discover` can be tried on a laptop with no resolver, no AWS
// account and no network. It prints the commands to try and stops on
// Ctrl-C (or after --for).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/app"
	"github.com/s3dns/s3dns/internal/fakeec2"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5353", "where s3dns listens (UDP and TCP)")
	httpListen := flag.String("http", "127.0.0.1:9153", "s3dns's HTTP address (/metrics /readyz /status)")
	runFor := flag.Duration("for", 0, "stop after this long (0: on Ctrl-C)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	if err := run(ctx, *listen, *httpListen); err != nil {
		fmt.Fprintln(os.Stderr, "s3dns-demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen, httpListen string) error {
	dir, err := os.MkdirTemp("", "s3dns-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	public, stopDNS, err := startPublicDNS()
	if err != nil {
		return err
	}
	defer stopDNS()
	ec2 := fakeec2.Start().Recorded()
	defer ec2.Close()
	ca, err := ec2.WriteCA(dir)
	if err != nil {
		return err
	}
	env := ec2.EnvIn(dir, ca)
	delete(env, "AWS_MAX_ATTEMPTS")
	for k, v := range env {
		os.Setenv(k, v)
	}
	file := filepath.Join(dir, "s3dns.yaml")
	conf := fmt.Sprintf(`# s3dns demo: everything on loopback.
listen: [%q]
http_listen: %q
upstreams: [%q]
aws: {region: eu-west-2, endpoint_url: %q}
discovery: {interval: 1m}
endpoints:
  - name: s3-london
    vpc_endpoint_id: %s        # discovery fills in the hostname and addresses from the fake EC2 API
    region: eu-west-2
    buckets: ["myspecificbucket", "logs-*"]
`, listen, httpListen, public, ec2.URL, fakeec2.S3ID)
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(dir, "s3dns.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	exit := make(chan int, 1)
	go func() {
		exit <- app.Run([]string{"serve", "--config", file}, app.IO{Stdout: io.Discard, Stderr: logs, Ctx: ctx})
	}()
	if err := waitReady(ctx, httpListen, exit); err != nil {
		b, _ := os.ReadFile(logs.Name())
		return fmt.Errorf("%w\n%s", err, b)
	}
	host, port, _ := net.SplitHostPort(listen)
	fmt.Printf(`s3dns demo: s3dns serves %s, with a fake public DNS (%s) and a fake EC2 API (%s)
on loopback: nothing leaves this machine. Configuration: %s, logs: %s

Try:
  dig @%s -p %s myspecificbucket.s3.eu-west-2.amazonaws.com    # listed: CNAME to the endpoint and its private addresses
  dig @%s -p %s +short otherbucket.s3.eu-west-2.amazonaws.com  # not listed: forwarded (192.0.2.80)
  dig @%s -p %s +short logs-2026.s3.eu-west-2.amazonaws.com    # listed by the glob logs-*
  curl -s http://%s/status                                      # discovered: where the data came from
  %s go run ./cmd/s3dns discover --endpoint-url %s   # what discovery sees

Ctrl-C stops it.
`, listen, public, ec2.URL, file, logs.Name(), host, port, host, port, host, port, httpListen, envLine(env), ec2.URL)
	code := <-exit
	if code != 0 {
		b, _ := os.ReadFile(logs.Name())
		return fmt.Errorf("s3dns exited %d\n%s", code, b)
	}
	fmt.Println("s3dns demo: stopped")
	return nil
}

// envLine is the environment discover needs, as shell assignments.
func envLine(env map[string]string) string {
	var parts []string
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"} {
		parts = append(parts, k+"="+env[k])
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// waitReady waits until s3dns answers with the discovered endpoint, or exits.
func waitReady(ctx context.Context, httpListen string, exit chan int) error {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-exit:
			exit <- code
			return fmt.Errorf("s3dns exited %d before it was ready", code)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		// Ready, and the endpoint discovered: the first dig gets the addresses.
		if resp, err := http.Get("http://" + httpListen + "/status"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"source": "ec2"`) {
				return nil
			}
		}
	}
	return fmt.Errorf("s3dns was not ready within 15 s")
}

// startPublicDNS stands in for the public DNS: the recorded endpoint's
// names resolve to its interfaces' private addresses, every bucket and
// the regional S3 name to a documentation address, anything else NXDOMAIN.
func startPublicDNS() (addr string, stop func(), err error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return "", nil, err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		resp.RecursionAvailable = true
		if len(req.Question) == 1 {
			answer(resp, req.Question[0])
		}
		if opt := req.IsEdns0(); opt != nil {
			resp.SetEdns0(1232, opt.Do())
		}
		_ = w.WriteMsg(resp)
	})
	servers := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, s := range servers {
		go func() { _ = s.ActivateAndServe() }()
	}
	return pc.LocalAddr().String(), func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	}, nil
}

func answer(resp *dns.Msg, q dns.Question) {
	name := strings.ToLower(q.Name)
	add := func(rr string) {
		if r, err := dns.NewRR(q.Name + " 60 IN " + rr); err == nil {
			resp.Answer = append(resp.Answer, r)
		}
	}
	switch {
	case strings.HasSuffix(name, ".s3.eu-west-2.vpce.amazonaws.com.") && strings.Contains(name, "-eu-west-2a."):
		if q.Qtype == dns.TypeA {
			add("A 10.20.1.10")
		}
	case strings.HasSuffix(name, ".s3.eu-west-2.vpce.amazonaws.com.") && strings.Contains(name, "-eu-west-2b."):
		if q.Qtype == dns.TypeA {
			add("A 10.20.2.10")
		}
	case strings.HasSuffix(name, ".s3.eu-west-2.vpce.amazonaws.com."):
		if q.Qtype == dns.TypeA {
			add("A 10.20.1.10")
			add("A 10.20.2.10")
		}
	case name == "s3.eu-west-2.amazonaws.com." || strings.HasSuffix(name, ".s3.eu-west-2.amazonaws.com."):
		if q.Qtype == dns.TypeA {
			add("A 192.0.2.80")
		}
	default:
		resp.Rcode = dns.RcodeNameError
	}
	if len(resp.Answer) == 0 {
		soa, _ := dns.NewRR("amazonaws.com. 60 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60")
		resp.Ns = append(resp.Ns, soa)
	}
}
