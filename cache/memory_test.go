package cache

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/wire"
)

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
		c := New(Config{MaxEntries: n, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, dnstest.MemoryUpstream{})
		for i := range n {
			c.Resolve(context.Background(), wire.Question{Name: fmt.Sprintf("f%d.fill.example.com.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET})
		}
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/float64(c.Len()), "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// BenchmarkHit is the fast path's cache lookup.
func BenchmarkHit(b *testing.B) {
	c := New(Config{MaxEntries: 1000, MaxTTL: time.Hour, NegativeMaxTTL: time.Hour}, dnstest.MemoryUpstream{})
	c.Resolve(context.Background(), wire.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	lname, _ := wire.PackName("www.example.com.")
	var held wire.Entry
	b.ReportAllocs()
	for b.Loop() {
		// A question per query, as the server makes: keyed once, here by Fresh.
		if e, _ := c.Fresh(&wire.Question{LName: lname, Qtype: dns.TypeA, Qclass: dns.ClassINET}, &held); e == nil {
			b.Fatal("miss")
		}
	}
}
