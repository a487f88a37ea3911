package integration

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
)

// spread describes how unpredictable a series of upstream queries was, as
// the upstream saw it: distinct source ports and IDs, the longest run of
// one port, the ports' range and the empirical entropy of each.
type spread struct {
	queries, ports, ids, longestRun int
	lowPort, highPort               uint16
	portBits, idBits                float64
}

func (s spread) String() string {
	return fmt.Sprintf("%d queries: %d distinct ports (%d–%d, %.2f bits), longest run on one port %d; %d distinct IDs (%.2f bits)",
		s.queries, s.ports, s.lowPort, s.highPort, s.portBits, s.longestRun, s.ids, s.idBits)
}

func entropy[K comparable](counts map[K]int, n int) float64 {
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// spreadOf measures the queries up received for names under suffix.
func spreadOf(t *testing.T, up *dnstest.Upstream, suffix string) spread {
	t.Helper()
	asked, sources := up.Asked(), up.Sources()
	ports, ids := map[uint16]int{}, map[uint16]int{}
	s := spread{lowPort: math.MaxUint16}
	run, last := 0, uint16(0)
	for i, m := range asked {
		if len(m.Question) != 1 || !strings.HasSuffix(strings.ToLower(m.Question[0].Name), suffix) {
			continue
		}
		port := netip.MustParseAddrPort(sources[i]).Port()
		s.queries++
		ports[port]++
		ids[m.Id]++
		s.lowPort, s.highPort = min(s.lowPort, port), max(s.highPort, port)
		if port == last {
			run++
		} else {
			run = 1
		}
		last = port
		s.longestRun = max(s.longestRun, run)
	}
	s.ports, s.ids = len(ports), len(ids)
	s.portBits, s.idBits = entropy(ports, s.queries), entropy(ids, s.queries)
	return s
}

// Every upstream query leaves from a port of its own (issue 30, item 2):
// 1,000 misses through the built binary reach the upstream from about
// 1,000 source ports, with 1,000 IDs, as through Unbound beside it. The
// numbers go to the log (docs/performance.md quotes them).
func TestSourcePortsAndIDsBesideUnbound(t *testing.T) {
	t.Parallel()
	const misses = 1000
	up := dnstest.NewUpstream(t)
	s := s3dnsFor(t, up.Addr, []endpoint{listedEndpoint})
	unbound := startUnbound(t, up.Addr, "", "")
	c := &dns.Client{Timeout: 5 * time.Second}
	for _, server := range []struct{ name, addr string }{{"s3dns", s.dns}, {"unbound", unbound.addr}} {
		suffix := "." + server.name + ".entropy.example."
		for i := range misses {
			m := new(dns.Msg)
			m.SetQuestion(fmt.Sprintf("q%d%s", i, suffix), dns.TypeA)
			if _, _, err := c.Exchange(m, server.addr); err != nil {
				t.Fatalf("%s, query %d: %v", server.name, i, err)
			}
		}
		got := spreadOf(t, up, suffix)
		t.Logf("%-8s %v", server.name, got)
		if server.name != "s3dns" {
			continue
		}
		// Random ports meet again by chance (about 18 pairs in 1,000 draws
		// from Linux's 28,232 ephemeral ports, two in a row once in 28
		// runs); IDs likewise (about 8 pairs in 65,536).
		if got.queries < misses || got.ports < misses*95/100 || got.longestRun > 2 || got.ids < misses*97/100 {
			t.Errorf("s3dns: %v; want a port and an ID of its own for each query", got)
		}
	}
}
