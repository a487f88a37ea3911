package dnsserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/model"
	"github.com/s3dns/s3dns/zones"
)

// maxBucketProbes bounds the probes sent under exact bucket names (for
// on-prem resolvers that forward single buckets, not whole regions).
const maxBucketProbes = 8

// loopDetector recognises the server's own probe queries when an upstream
// sends them back, as CoreDNS's loop plugin does.
type loopDetector struct {
	// probing is set while probes are out: the fast path then steps aside
	// so that every query is checked against them.
	probing atomic.Bool
	mu      sync.Mutex
	probes  map[string]bool // lower-case names in flight
	hits    int
}

// seen reports whether name is one of our probes coming back, counting it.
func (l *loopDetector) seen(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.probes) == 0 || !l.probes[strings.ToLower(name)] {
		return false
	}
	l.hits++
	return true
}

// ProbeForLoop sends uniquely named queries through the upstreams, under
// each served region's zone and some listed buckets (the names an on-prem
// resolver would forward to s3dns), and reports whether any came back to
// this server: a forwarding loop.
func (s *Server) ProbeForLoop(ctx context.Context, st *State) bool {
	names := probeNames(st.Config.Endpoints)
	s.loop.mu.Lock()
	if s.loop.probes == nil {
		s.loop.probes = map[string]bool{}
	}
	for _, n := range names {
		s.loop.probes[n] = true
	}
	before := s.loop.hits
	s.loop.probing.Store(true)
	s.loop.mu.Unlock()

	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = st.Cache.Probe(ctx, n, dns.TypeA)
		}()
	}
	wg.Wait()

	s.loop.mu.Lock()
	defer s.loop.mu.Unlock()
	for _, n := range names {
		delete(s.loop.probes, n)
	}
	s.loop.probing.Store(len(s.loop.probes) > 0)
	return s.loop.hits > before
}

func probeNames(endpoints []model.Endpoint) []string {
	label := "s3dns-loop-probe-" + randomHex(8)
	regions := map[string]bool{}
	var names []string
	buckets := 0
	for _, e := range endpoints {
		if e.Service != model.ServiceS3 {
			for _, z := range zones.ServiceZones(&e) {
				if buckets < maxBucketProbes {
					buckets++
					names = append(names, label+"."+z+".")
				}
			}
			continue
		}
		if !regions[e.Region] {
			regions[e.Region] = true
			names = append(names, zones.Name(label, zones.Buckets, e.Region)+".")
		}
		for _, b := range e.Buckets {
			if !model.IsGlob(b) && buckets < maxBucketProbes {
				buckets++
				names = append(names, label+"."+zones.Name(b, zones.Buckets, e.Region)+".")
			}
		}
	}
	if len(names) == 0 {
		names = append(names, zones.Name(label, zones.Buckets, "us-east-1")+".")
	}
	return names
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
