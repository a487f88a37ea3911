package cache

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// echoUpstream answers every A query with one address, in memory.
type echoUpstream struct{}

func (echoUpstream) Exchange(_ context.Context, q *dns.Msg) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
		A: []byte{192, 0, 2, 1}}}
	return m, "127.0.0.1:53", nil
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkEntryMemory reports the live heap per cached answer.
func BenchmarkEntryMemory(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		before := heapAfterGC()
		c := New(Config{MaxEntries: n, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, echoUpstream{})
		for i := range n {
			c.Resolve(context.Background(), fmt.Sprintf("f%d.fill.example.com.", i), dns.TypeA, dns.ClassINET, false)
		}
		c.store.CleanUp()
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/float64(c.Len()), "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// BenchmarkHit is the fast path's cache lookup.
func BenchmarkHit(b *testing.B) {
	c := New(Config{MaxEntries: 1000, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, echoUpstream{})
	c.Resolve(context.Background(), "www.example.com.", dns.TypeA, dns.ClassINET, false)
	lname, _ := wire.PackName("www.example.com.")
	key := wire.Key(lname, dns.TypeA, dns.ClassINET, false)
	now := c.NowNano()
	b.ReportAllocs()
	for b.Loop() {
		if c.Hit(key, lname, dns.TypeA, dns.ClassINET, false, now) == nil {
			b.Fatal("miss")
		}
	}
}
