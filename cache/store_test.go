package cache

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/wire"
)

// storeEntry is a one-record answer for name, fresh until expires.
func storeEntry(t testing.TB, name string, expires int64) (*wire.Question, *wire.Entry) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.Response = true
	rr, err := dns.NewRR(name + " 300 IN A 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	m.Answer = []dns.RR{rr}
	e, err := wire.Build(m, wire.Aging{}, 0, 0, expires)
	if err != nil {
		t.Fatal(err)
	}
	q := wire.NewQuestion(name, dns.TypeA, 0)
	if _, err := q.Key(); err != nil {
		t.Fatal(err)
	}
	return &q, &e
}

// has reports whether s holds the answer to q (fresh or not), checking
// that what it holds is that answer.
func has(t testing.TB, s *store, q *wire.Question) bool {
	t.Helper()
	key, _ := q.Key()
	var e wire.Entry
	if _, ok := s.get(key, q, &e); !ok {
		return false
	}
	if !e.Matches(q.LName, q.Qtype, q.Qclass, q.Opts) {
		t.Fatalf("%s: the store gave another question's answer", q.Name)
	}
	return true
}

// The bound holds for every size, the records counted against it (live or
// replaced) included, and what is held is always the right answer.
func TestStoreBound(t *testing.T) {
	for _, bound := range []int{1, 3, 10, 100, 5000} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			s := newStore(bound, 0)
			held := 0
			for i := range 4 * bound {
				q, e := storeEntry(t, fmt.Sprintf("n%d.example.", i), 1e12)
				key, _ := q.Key()
				s.set(key, e, "192.0.2.53:53", 0)
				if n := s.len(); n > bound {
					t.Fatalf("after %d answers the store holds %d, bound %d", i+1, n, bound)
				}
				for j := range s.shards {
					if sh := &s.shards[j]; sh.records > sh.max && len(sh.segs) > 1 {
						t.Fatalf("shard %d holds %d records, bound %d", j, sh.records, sh.max)
					}
				}
			}
			for i := range 4 * bound {
				q, _ := storeEntry(t, fmt.Sprintf("n%d.example.", i), 1e12)
				if has(t, s, q) {
					held++
				}
			}
			if held != s.len() || held == 0 {
				t.Fatalf("%d answers found, len says %d", held, s.len())
			}
			// The newest answer is always there.
			if q, _ := storeEntry(t, fmt.Sprintf("n%d.example.", 4*bound-1), 1e12); !has(t, s, q) {
				t.Fatal("the newest answer was evicted")
			}
		})
	}
}

// One name refreshed over and over leaves its old copies behind; they are
// reclaimed, so the store's bytes stay bounded while it holds one answer.
func TestStoreReplacedAnswersReclaimed(t *testing.T) {
	s := newStore(100, 0)
	q, e := storeEntry(t, "refreshed.example.", 1e12)
	key, _ := q.Key()
	for range 100_000 {
		s.set(key, e, "192.0.2.53:53", 0)
	}
	sh := s.shardOf(key)
	bytes := 0
	for _, seg := range sh.segs {
		bytes += cap(seg.buf)
	}
	if s.len() != 1 || sh.records > 100 || bytes > 64<<10 {
		t.Fatalf("one answer held in %d live, %d records, %d bytes of segments", s.len(), sh.records, bytes)
	}
	if !has(t, s, q) {
		t.Fatal("the answer itself was lost")
	}
}

// Eviction gives answers asked for since they were written a second
// chance: a few hot names survive a stream of one-off names many times
// the cache's size, which plain FIFO would evict within one pass.
func TestStoreKeepsWhatIsAsked(t *testing.T) {
	const bound = 1000
	s := newStore(bound, 0)
	var hot []*wire.Question
	for i := range 20 {
		q, e := storeEntry(t, fmt.Sprintf("hot%d.example.", i), 1e12)
		key, _ := q.Key()
		s.set(key, e, "", 0)
		hot = append(hot, q)
	}
	var e wire.Entry
	for i := range 10 * bound {
		q, one := storeEntry(t, fmt.Sprintf("once%d.example.", i), 1e12)
		key, _ := q.Key()
		s.set(key, one, "", 0)
		if i%(bound/4) == 0 {
			for _, h := range hot {
				key, _ := h.Key()
				s.fresh(key, h, 0, &e) // the hot names are asked for now and then
			}
		}
	}
	for _, h := range hot {
		if !has(t, s, h) {
			t.Fatalf("%s, asked for all along, was evicted", h.Name)
		}
	}
	if q, _ := storeEntry(t, "once0.example.", 1e12); has(t, s, q) {
		t.Fatal("a name asked for once outlived ten times the cache's size in other names")
	}
}

// A full cache taking one new name after another frees a segment's room
// per eviction round: it copies forward almost nothing (no name was asked
// for twice), where freeing one record per insert copied a segment per
// insert, 102 µs of CPU per miss in miss-heavy once the cache was full.
func TestStoreFullCacheCopiesLittle(t *testing.T) {
	for _, bound := range []int{1000, 100_000} {
		s := newStore(bound, 0)
		for i := range 3 * bound {
			q, e := storeEntry(t, fmt.Sprintf("n%d.example.", i), 1e12)
			key, _ := q.Key()
			s.set(key, e, "", 0)
		}
		moved := 0
		for i := range s.shards {
			moved += s.shards[i].moved
		}
		if moved > bound/10 {
			t.Errorf("bound %d: %d records copied forward for %d new names", bound, moved, 2*bound)
		}
		if n := s.len(); n < bound*3/4 {
			t.Errorf("bound %d: %d held after the stream, far under the bound", bound, n)
		}
	}
}

// Answers past their serve-stale window are not copied forward.
func TestStoreDropsWhatIsTooOld(t *testing.T) {
	s := newStore(10, int64(time.Minute))
	old, e := storeEntry(t, "old.example.", int64(time.Second))
	key, _ := old.Key()
	s.set(key, e, "", 0)
	kept, e2 := storeEntry(t, "stale.example.", int64(time.Hour))
	key2, _ := kept.Key()
	s.set(key2, e2, "", 0)
	now := int64(2 * time.Hour) // old is an hour past its window; stale still within
	for i := range 9 {
		q, e := storeEntry(t, fmt.Sprintf("n%d.example.", i), 1e15)
		key, _ := q.Key()
		s.set(key, e, "", now)
	}
	if has(t, s, old) {
		t.Fatal("an answer past serve-stale was kept")
	}
	if !has(t, s, kept) {
		t.Fatal("an answer within serve-stale was dropped while there was room")
	}
}

// An answer handed out stays as it was while its segment is evicted and
// the store is flushed: renders never see bytes change under them.
func TestStoreViewOutlivesEviction(t *testing.T) {
	s := newStore(10, 0)
	q, e := storeEntry(t, "view.example.", 1e12)
	key, _ := q.Key()
	s.set(key, e, "", 0)
	var view wire.Entry
	if !s.fresh(key, q, 0, &view) {
		t.Fatal("not found")
	}
	before := bytes.Clone(view.Packed(nil))
	for i := range 1000 {
		q, e := storeEntry(t, fmt.Sprintf("n%d.example.", i), 1e12)
		key, _ := q.Key()
		s.set(key, e, "", 0)
	}
	s.remove(func(uint64, *wire.Entry) bool { return true })
	if !bytes.Equal(view.Packed(nil), before) {
		t.Fatal("a view handed out changed after eviction")
	}
}

// Readers and writers at once (run with -race): every read is a whole,
// right answer.
func TestStoreConcurrent(t *testing.T) {
	s := newStore(200, 0)
	qs := make([]*wire.Question, 500)
	es := make([]*wire.Entry, 500)
	for i := range qs {
		qs[i], es[i] = storeEntry(t, fmt.Sprintf("c%d.example.", i), 1e12)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			var e wire.Entry
			for i := range 5000 {
				j := (i*7 + w*131) % len(qs)
				key, _ := qs[j].Key()
				if w%2 == 0 {
					s.set(key, es[j], "up", 0)
				} else if s.fresh(key, qs[j], 0, &e) && !e.Matches(qs[j].LName, dns.TypeA, dns.ClassINET, 0) {
					t.Errorf("read another answer for %s", qs[j].Name)
					return
				}
			}
		})
	}
	wg.Wait()
	if s.len() > 200 {
		t.Fatalf("holds %d, bound 200", s.len())
	}
}
