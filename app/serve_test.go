package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

type running struct {
	dns, http string
	logs      *dnstest.SyncBuffer
	cancel    context.CancelFunc
	reload    chan struct{}
	exit      chan int
}

// serveInProcess runs `s3dns serve --config file` on free loopback ports.
func serveInProcess(t *testing.T, file string) *running {
	t.Helper()
	r := &running{dns: dnstest.FreeAddr(t), http: dnstest.FreeAddr(t), logs: &dnstest.SyncBuffer{},
		reload: make(chan struct{}, 1), exit: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.exit <- Run([]string{"serve", "--config", file, "--listen", r.dns, "--http-listen", r.http},
			IO{Stdout: io.Discard, Stderr: r.logs, Ctx: ctx, Reload: r.reload})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.exit:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := r.get(t, "/readyz"); code == http.StatusOK {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not ready; logs:\n%s", r.logs)
	return nil
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.http + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric returns the line of a sample in /metrics, "" when absent.
func (r *running) metric(t *testing.T, sample string) string {
	t.Helper()
	_, body := r.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, sample+" ") {
			return line
		}
	}
	return ""
}

// value is a sample's value in /metrics, -1 when absent.
func (r *running) value(t *testing.T, sample string) float64 {
	t.Helper()
	line := r.metric(t, sample)
	if line == "" {
		return -1
	}
	var v float64
	fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
	return v
}

// reloads is how many reloads were tried, successful or not.
func (r *running) reloads(t *testing.T) int {
	t.Helper()
	n := 0
	for _, result := range []string{"success", "failure"} {
		var v int
		line := r.metric(t, `s3dns_config_reloads_total{result="`+result+`"}`)
		fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%d", &v)
		n += v
	}
	return n
}

func writeAtomically(t *testing.T, file, body string) {
	t.Helper()
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

func endpointConfig(up, hostname string) string {
	return fmt.Sprintf("upstreams: [%q]\nupstream_timeout: 1s\nendpoints:\n  - region: eu-west-2\n    hostname: %s\n    buckets: [stable, \"logs-*\"]\n", up, hostname)
}

const stable = "stable.s3.eu-west-2.amazonaws.com."

func ask(addr, network, name string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

func TestReloadUnderLoad(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	hosts := []string{"vpce-a.s3.eu-west-2.vpce.amazonaws.com.", "vpce-b.s3.eu-west-2.vpce.amazonaws.com."}
	up := dnstest.NewUpstream(t, hosts[0]+" 60 IN A 10.0.0.1", hosts[1]+" 60 IN A 10.0.0.2")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	os.WriteFile(file, []byte(endpointConfig(up.Addr, hosts[0])), 0o600)
	r := serveInProcess(t, file)

	const total, workers = 5000, 10
	var answered, wrong atomic.Int64
	var firstWrong atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			network := "udp"
			if w%3 == 0 {
				network = "tcp"
			}
			for range total / workers {
				resp, err := ask(r.dns, network, stable)
				if err == nil && validStableAnswer(resp, hosts) {
					answered.Add(1)
					continue
				}
				wrong.Add(1)
				firstWrong.CompareAndSwap(nil, fmt.Sprintf("err %v resp %v", err, resp))
			}
		}()
	}
	// 20 rewrites: invalid and valid alternately, the last one valid.
	last := ""
	for i := range 20 {
		before := r.reloads(t)
		if i%2 == 0 {
			writeAtomically(t, file, endpointConfig(up.Addr, hosts[i%4/2])+"bogus_key: 1\n")
		} else {
			last = hosts[(i/2)%2]
			writeAtomically(t, file, endpointConfig(up.Addr, last))
		}
		// Each rewrite is taken (or refused) before the next one is written.
		dnstest.WaitFor(t, "the rewrite reloaded", 10*time.Second, func() bool { return r.reloads(t) > before })
	}
	wg.Wait()
	if wrong.Load() != 0 || answered.Load() != total {
		t.Fatalf("%d of %d queries wrong or failed; first: %v", wrong.Load(), total, firstWrong.Load())
	}
	dnstest.WaitFor(t, "the last valid file to be served", 10*time.Second, func() bool {
		resp, err := ask(r.dns, "udp", stable)
		return err == nil && len(resp.Answer) > 0 && resp.Answer[0].(*dns.CNAME).Target == last
	})
	if r.metric(t, `s3dns_config_reloads_total{result="failure"}`) == `s3dns_config_reloads_total{result="failure"} 0` ||
		r.metric(t, `s3dns_config_reloads_total{result="success"}`) == `s3dns_config_reloads_total{result="success"} 0` {
		t.Fatalf("reload counters did not move:\n%s", r.logs)
	}
	if !strings.Contains(r.logs.String(), "bogus_key: unknown key") {
		t.Fatal("the failed reload's error is not logged")
	}
}

func validStableAnswer(resp *dns.Msg, hosts []string) bool {
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 2 {
		return false
	}
	cname, ok := resp.Answer[0].(*dns.CNAME)
	return ok && (cname.Target == hosts[0] || cname.Target == hosts[1]) && resp.Answer[1].Header().Name == cname.Target
}

func TestSIGHUPReloadsAndBadFileKeepsRunningConfig(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t, "vpce-a.example. 60 IN A 10.0.0.1", "newbucket.s3.eu-west-2.amazonaws.com. 60 IN A 192.0.2.9")
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	os.WriteFile(file, []byte(endpointConfig(up.Addr, "vpce-a.example.")), 0o600)
	r := serveInProcess(t, file)
	newbucket := "newbucket.s3.eu-west-2.amazonaws.com."

	// A bad file is refused: the running configuration stays.
	os.WriteFile(file, []byte("endpoints: [{region: nowhere}]\n"), 0o600)
	dnstest.WaitFor(t, "the failed reload", 10*time.Second, func() bool {
		return r.metric(t, `s3dns_config_reloads_total{result="failure"}`) != `s3dns_config_reloads_total{result="failure"} 0`
	})
	if resp, err := ask(r.dns, "udp", stable); err != nil || len(resp.Answer) != 2 {
		t.Fatalf("after a bad file: %v %v", resp, err)
	}
	if r.metric(t, "s3dns_config_last_reload_successful") != "s3dns_config_last_reload_successful 0" {
		t.Fatal("last reload not marked failed")
	}

	// SIGHUP reloads a file whose change the watcher may not see.
	body := strings.Replace(endpointConfig(up.Addr, "vpce-a.example."), "stable,", "stable, newbucket,", 1)
	os.WriteFile(file, []byte(body), 0o600)
	r.reload <- struct{}{}
	dnstest.WaitFor(t, "newbucket to be served by the endpoint", 10*time.Second, func() bool {
		resp, err := ask(r.dns, "udp", newbucket)
		return err == nil && len(resp.Answer) > 0 && resp.Answer[0].Header().Rrtype == dns.TypeCNAME
	})
}

func TestShutdownFinishesQueriesInFlight(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t)
	for i := range 20 {
		up.Add(t, fmt.Sprintf("name%d.example. 60 IN A 192.0.2.%d", i, i+1))
	}
	up.SetMode(dnstest.Slow, 400*time.Millisecond)
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf("upstreams: [%q]\n", up.Addr)), 0o600)
	r := serveInProcess(t, file)

	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			network := []string{"udp", "tcp"}[i%2]
			resp, err := ask(r.dns, network, fmt.Sprintf("name%d.example.", i))
			if err == nil && len(resp.Answer) == 1 {
				ok.Add(1)
			}
		}()
	}
	dnstest.WaitFor(t, "queries to reach the upstream", 10*time.Second, func() bool {
		n := 0
		for i := range 20 {
			n += up.Count(fmt.Sprintf("name%d.example.", i), "udp")
		}
		return n == 20
	})
	r.cancel()
	wg.Wait()
	if n := ok.Load(); n != 20 {
		t.Fatalf("%d of 20 queries in flight were answered", n)
	}
	select {
	case code := <-r.exit:
		r.exit <- code // for the cleanup
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
}

func TestListenChangeNeedsRestart(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t, "vpce-a.example. 60 IN A 10.0.0.1")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	body := func(listen string) string {
		return fmt.Sprintf("listen: [%q]\nhttp_listen: \"\"\n", listen) + endpointConfig(up.Addr, "vpce-a.example.")
	}
	first := dnstest.FreeAddr(t)
	os.WriteFile(file, []byte(body(first)), 0o600)
	logs := &dnstest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() {
		exit <- Run([]string{"serve", "--config", file}, IO{Stdout: io.Discard, Stderr: logs, Ctx: ctx})
	}()
	defer func() { cancel(); <-exit }()
	dnstest.WaitFor(t, "start-up", 10*time.Second, func() bool { return strings.Contains(logs.String(), "s3dns serving") })

	writeAtomically(t, file, body(dnstest.FreeAddr(t)))
	dnstest.WaitFor(t, "the restart warning", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "listen or http_listen changed: a restart is needed")
	})
	// Still serving on the first address.
	if resp, err := ask(first, "udp", stable); err != nil || len(resp.Answer) != 2 {
		t.Fatalf("after the listen change: %v %v", resp, err)
	}
}

// Every labelled series whose label values the configuration names exists
// from the start, at 0, so that rate() and absent() in alerts see it before
// its first event (issue 30, item 7): upstream results, health probes, site
// requests, discovery errors; and dnstap drops while dnstap is on.
func TestSeriesExistBeforeTheirFirstEvent(t *testing.T) {
	up := dnstest.FreeAddr(t) // never asked: nothing is queried
	// Static credentials and no instance metadata (TestMain): nothing leaves loopback.
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "s3dns.yaml")
	body := fmt.Sprintf(`upstreams: [%q]
aws: {region: eu-west-2, endpoint_url: "http://127.0.0.1:1"}
discovery: {interval: 1h}
dnstap: {file: %q}
sites:
  - {name: london-dc, clients: ["10.1.0.0/16"]}
endpoints:
  - name: s3-london
    region: eu-west-2
    hostname: vpce-1-a.s3.eu-west-2.vpce.amazonaws.com
    buckets: [stable]
    health: {interval: 1h}
  - name: s3-found
    region: eu-west-2
    vpc_endpoint_id: vpce-0a1b2c3d4e5f67890
    buckets: [other]
`, up, filepath.Join(dir, "tap.dnstap"))
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := serveInProcess(t, file)
	for _, sample := range []string{
		`s3dns_upstream_requests_total{result="timeout",upstream="` + up + `"}`,
		`s3dns_upstream_requests_total{result="success",upstream="` + up + `"}`,
		`s3dns_endpoint_probes_total{endpoint="s3-london",result="failure"}`,
		`s3dns_site_requests_total{action="endpoint",site="london-dc"}`,
		`s3dns_site_requests_total{action="forward",site="london-dc"}`,
		`s3dns_dnstap_dropped_total`,
	} {
		if line := r.metric(t, sample); line != sample+" 0" {
			t.Errorf("%s: got %q, want it at 0", sample, line)
		}
	}
	// Discovery against a port nobody listens on may have failed already:
	// the series exists either way.
	if line := r.metric(t, `s3dns_discovery_errors_total{endpoint="s3-found"}`); line == "" {
		t.Error("s3dns_discovery_errors_total{endpoint=\"s3-found\"} is missing")
	}
}

// Lame duck (issue 31, item 5): on SIGTERM /readyz turns 503 at once while
// queries are still answered for shutdown.lameduck, so that load balancers
// and anycast withdrawal see the instance go before it stops answering;
// then it exits.
func TestLameDuckKeepsAnsweringWhileNotReady(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	up := dnstest.NewUpstream(t, stable+" 60 IN A 192.0.2.1")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeAtomically(t, file, fmt.Sprintf("upstreams: [%q]\nshutdown: {lameduck: 1500ms}\n", up.Addr))
	r := serveInProcess(t, file)
	stopped := time.Now()
	r.cancel() // SIGTERM
	dnstest.WaitFor(t, "/readyz 503", 10*time.Second, func() bool { code, _ := r.get(t, "/readyz"); return code == http.StatusServiceUnavailable })
	for time.Since(stopped) < time.Second {
		if resp, err := ask(r.dns, "udp", stable); err != nil || len(resp.Answer) != 1 {
			t.Fatalf("%v into the lame duck: %v %v", time.Since(stopped), resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case code := <-r.exit:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		r.exit <- code // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after the lame duck")
	}
}

// Runtime control (issue 31, item 6), as rndc and unbound-control give it:
// s3dns cache dump lists what the running server holds, cache flush NAME
// drops one name (the next query asks upstream again), reload reads the
// file again; each is counted and logged, and a client outside
// http_admin_allow is refused.
func TestCacheFlushDumpAndReload(t *testing.T) {
	t.Parallel() // waits on the server: overlapped with the other waiting tests
	const other = "other.example."
	up := dnstest.NewUpstream(t, stable+" 60 IN A 192.0.2.1", other+" 60 IN A 192.0.2.2")
	file := filepath.Join(t.TempDir(), "s3dns.yaml")
	writeAtomically(t, file, fmt.Sprintf("upstreams: [%q]\n", up.Addr))
	r := serveInProcess(t, file)
	for _, name := range []string{stable, other} {
		if _, err := ask(r.dns, "udp", name); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := run(t, "cache", "dump", "--http", r.http)
	if code != 0 || !strings.Contains(out, stable) || !strings.Contains(out, other) || !strings.Contains(out, "cache") {
		t.Fatalf("cache dump: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "cache", "flush", strings.ToUpper(stable), "--http", r.http)
	if code != 0 || !strings.Contains(out, "flushed the answers for "+strings.ToUpper(stable)+": 1") {
		t.Fatalf("cache flush: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ = run(t, "cache", "dump", "--http", r.http); strings.Contains(out, stable) || !strings.Contains(out, other) {
		t.Fatalf("after flushing %s:\n%s", stable, out)
	}
	asked := up.Count(stable, "udp")
	if _, err := ask(r.dns, "udp", stable); err != nil || up.Count(stable, "udp") != asked+1 {
		t.Fatalf("the flushed name was not asked upstream again (%d then %d): %v", asked, up.Count(stable, "udp"), err)
	}
	if code, out, _ = run(t, "cache", "flush", "--http", r.http); code != 0 || !strings.Contains(out, "flushed every answer: 2") {
		t.Fatalf("cache flush (all): exit %d %s", code, out)
	}
	reloads := r.reloads(t)
	if code, out, errOut = run(t, "reload", "--http", r.http); code != 0 || r.reloads(t) != reloads+1 {
		t.Fatalf("reload: exit %d %s%s, reloads %d then %d", code, out, errOut, reloads, r.reloads(t))
	}
	for _, sample := range []string{`s3dns_admin_requests_total{action="flush",result="ok"} 2`, `s3dns_admin_requests_total{action="dump",result="ok"} 2`,
		`s3dns_admin_requests_total{action="reload",result="ok"} 1`} {
		if r.metric(t, sample[:strings.LastIndexByte(sample, ' ')]) != sample {
			t.Errorf("want %s", sample)
		}
	}
	if !strings.Contains(r.logs.String(), "admin: cache flushed") {
		t.Error("the flush is not logged")
	}

	// Only http_admin_allow may use them (loopback by default).
	denied := filepath.Join(t.TempDir(), "denied.yaml")
	writeAtomically(t, denied, fmt.Sprintf("upstreams: [%q]\nhttp_admin_allow: [\"10.0.0.0/8\"]\n", up.Addr))
	d := serveInProcess(t, denied)
	if code, _, errOut = run(t, "cache", "flush", "--http", d.http); code != 1 || !strings.Contains(errOut, "403") {
		t.Fatalf("flush from outside http_admin_allow: exit %d %s", code, errOut)
	}
	if v := d.value(t, `s3dns_admin_requests_total{action="flush",result="denied"}`); v != 1 {
		t.Errorf("denied flushes counted %v, want 1", v)
	}
}
