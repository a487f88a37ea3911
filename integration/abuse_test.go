package integration

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// paced runs fn n times spread evenly over about d on workers goroutines.
func paced(n, workers int, d time.Duration, fn func(worker, i int)) {
	var wg sync.WaitGroup
	per := n / workers
	interval := d / time.Duration(per)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			for i := range per {
				if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
					time.Sleep(wait)
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}

func clientFrom(ip, network string) *dns.Client {
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	if network == "tcp" {
		c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	} else {
		c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}}
	}
	return c
}

func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestLoadWithAbuse sends a bounded mixed stream — 30,000 queries over about
// 10 s, valid and malformed, UDP and TCP, from several loopback addresses, a
// client over its rate and one outside the ACL — and checks that every
// valid query from an allowed client within its rate was answered correctly.
func TestLoadWithAbuse(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: skipping abuse load (10 s); go test ./... and CI run it")
	}
	up := publicDNS(t)
	for i := range 50 {
		up.Add(t, fmt.Sprintf("unlisted%d.s3.eu-west-2.amazonaws.com. 300 IN A 192.0.2.%d", i, i+1))
	}
	file := writeConfig(t, fileConfig{Upstreams: []string{up.Addr},
		Access:    map[string]any{"allow": []string{"127.0.0.0/25"}, "rate_limit_qps": 1500},
		Endpoints: []endpoint{{Region: "eu-west-2", Hostname: sampleVPCE, Buckets: []string{"listed-*"}}}})
	p := startBinary(t, dnstest.FreeAddr(t), dnstest.FreeAddr(t), "--config", file, "--log-level", "warn")
	rssBefore := rssKiB(t, p.cmd.Process.Pid)

	var good, lost, wrong atomic.Int64
	var firstProblem atomic.Value
	check := func(c *dns.Client, name string, listed bool) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		resp, _, err := c.Exchange(m, p.dns)
		switch {
		case err != nil:
			lost.Add(1)
			firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: %v", name, err))
		case listed && (len(resp.Answer) != 3 || resp.Answer[0].(*dns.CNAME).Target != sampleVPCE),
			!listed && (len(resp.Answer) != 1 || resp.Rcode != dns.RcodeSuccess):
			wrong.Add(1)
			firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: %v", name, resp))
		default:
			good.Add(1)
		}
	}
	name := func(i int) (string, bool) {
		if i%2 == 0 {
			return fmt.Sprintf("listed-%d.s3.eu-west-2.amazonaws.com.", i%200), true
		}
		return fmt.Sprintf("unlisted%d.s3.eu-west-2.amazonaws.com.", i%50), false
	}

	var refusedOutside, limited atomic.Int64
	var wg sync.WaitGroup
	run := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	const d = 10 * time.Second
	// 18,000 valid UDP queries from three allowed clients, well within their rate.
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		run(func() {
			c := clientFrom(ip, "udp")
			paced(6000, 6, d, func(w, i int) { n, l := name(w*1000 + i); check(c, n, l) })
		})
	}
	// 2,000 valid TCP queries from an allowed client.
	run(func() {
		c := clientFrom("127.0.0.7", "tcp")
		paced(2000, 4, d, func(w, i int) { n, l := name(w*500 + i); check(c, n, l) })
	})
	// 5,000 queries from one client written back to back, not waiting for
	// replies: over its rate however loaded the machine is.
	run(func() {
		conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.5")}, net.UDPAddrFromAddrPort(mustAddrPort(t, p.dns)))
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		replies := make(chan struct{})
		go func() {
			defer close(replies)
			buf := make([]byte, 1232)
			for conn.SetReadDeadline(time.Now().Add(3*time.Second)) == nil {
				n, err := conn.Read(buf)
				if err != nil {
					return
				}
				var resp dns.Msg
				if resp.Unpack(buf[:n]) == nil && resp.Rcode == dns.RcodeRefused {
					limited.Add(1)
				}
			}
		}()
		m := new(dns.Msg)
		m.SetQuestion("listed-1.s3.eu-west-2.amazonaws.com.", dns.TypeA)
		for i := range 5000 {
			m.Id = uint16(i)
			pkt, _ := m.Pack()
			conn.Write(pkt)
		}
		<-replies
	})
	// 2,000 queries from outside access.allow.
	run(func() {
		c := clientFrom("127.0.0.200", "udp")
		paced(2000, 2, d, func(w, i int) {
			m := new(dns.Msg)
			m.SetQuestion("listed-1.s3.eu-west-2.amazonaws.com.", dns.TypeA)
			if resp, _, err := c.Exchange(m, p.dns); err == nil && resp.Rcode == dns.RcodeRefused {
				refusedOutside.Add(1)
			}
		})
	})
	// 3,000 malformed datagrams.
	run(func() {
		conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.6")}, net.UDPAddrFromAddrPort(mustAddrPort(t, p.dns)))
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		valid, _ := (&dns.Msg{Question: []dns.Question{{Name: "x.example.", Qtype: 1, Qclass: 1}}}).Pack()
		paced(3000, 1, d, func(_, i int) {
			junk := append([]byte{}, valid[:i%len(valid)]...)
			junk = append(junk, byte(i), byte(i>>8), 0xc0, 0x0c)
			conn.Write(junk)
		})
	})
	wg.Wait()

	if lost.Load() != 0 || wrong.Load() != 0 || good.Load() != 20000 {
		t.Fatalf("valid queries: %d good, %d lost, %d wrong; first problem: %v", good.Load(), lost.Load(), wrong.Load(), firstProblem.Load())
	}
	if refusedOutside.Load() != 2000 {
		t.Errorf("%d of 2000 queries from outside the ACL refused", refusedOutside.Load())
	}
	if limited.Load() == 0 {
		t.Error("the client over its rate was never refused")
	}
	rssAfter := rssKiB(t, p.cmd.Process.Pid)
	t.Logf("RSS %d KiB before, %d KiB after; %d rate-limited", rssBefore, rssAfter, limited.Load())
	if rssAfter > 256*1024 {
		t.Errorf("RSS grew to %d KiB", rssAfter)
	}
	if code, _ := p.get("/healthz"); code != 200 {
		t.Error("not healthy after the load")
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d", code)
	}
}
