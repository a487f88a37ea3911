package cache

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/s3dns/s3dns/wire"
)

// store holds packed answers by question, bounded by count. Answers live as
// plain bytes in append-only segments, found through a map from key to
// position: neither holds a pointer, so a million answers cost the garbage
// collector nothing to scan and about 130 bytes each (otter, with an object
// and a buffer per answer, took 225). The fast path reads it without
// allocating.
//
// Eviction is by segment, oldest first (as Segcache and log-structured
// caches do): an answer still wanted is copied forward instead of dropped —
// every one while the cache holds a segment's worth fewer than its bound,
// else those asked for since they were written (a second chance, as CLOCK
// gives) — and answers past their serve-stale window go. Replaced answers
// leave dead bytes behind until their segment's turn; counting every record
// written against the bound keeps those bounded too.
type store struct {
	shards []shard
	// keep is how long past expiry an answer is still worth holding
	// (serve-stale), in clock nanoseconds.
	keep      int64
	upstreams upstreamNames
}

// shard is one lock's worth of the store.
type shard struct {
	mu    sync.RWMutex
	index map[uint64]uint64 // key -> segment number<<32 | offset
	segs  []*segment        // oldest first; segs[0] is number base
	base  uint32
	live  int // answers in index
	// records counts every record in segs, live or replaced: the bound
	// applies to it, so that dead bytes cannot grow without end.
	records int
	max     int
	segSize int
	perSeg  int // records in a segment at most: eviction never takes more than an eighth
	moved   int // records eviction copied forward (the tests read it)
}

// segment is an append-only run of records. Its buffer never grows (a view
// handed out must stay valid) and is never reused once dropped.
type segment struct {
	buf []byte
	n   int // records written
}

// A record is: a 32-bit word (bit 31: asked for since written; low 24
// bits: the record's length), the upstream's number (16 bits) and padding,
// the key, then the entry in its byte form; padded to 8 bytes.
const (
	recHeader = 16
	hitBit    = 1 << 31
	lenMask   = 1<<24 - 1
	// maxSegment is the usual segment size; a larger answer gets a
	// segment of its own.
	maxSegment = 64 << 10
	minSegment = 512
	// shardedFrom: smaller caches use one shard, so that the bound is
	// exact and eviction not too coarse.
	shardedFrom = 4096
	shardCount  = 16
)

// newStore holds at most bound answers, keeping expired ones for keep.
func newStore(bound int, keep int64) *store {
	n := 1
	if bound >= shardedFrom {
		n = shardCount
	}
	s := &store{shards: make([]shard, n), keep: keep}
	per := bound / n
	for i := range s.shards {
		// About eight segments per shard, so that one segment's eviction
		// is at most an eighth of it.
		seg := min(max(per*128/8, minSegment), maxSegment)
		s.shards[i] = shard{index: map[uint64]uint64{}, max: per, segSize: seg, perSeg: max(1, per/8)}
	}
	return s
}

func (s *store) shardOf(key uint64) *shard { return &s.shards[key%uint64(len(s.shards))] }

// fresh finds the answer to q still fresh at now and unpacks it into e
// (its buffer stays the store's), marking it as asked for.
func (s *store) fresh(key uint64, q *wire.Question, now int64, e *wire.Entry) bool {
	sh := s.shardOf(key)
	sh.mu.RLock()
	rec := sh.record(key)
	ok := rec != nil && wire.PackedFreshFor(rec[recHeader:], q.LName, q.Qtype, q.Qclass, q.Opts, now)
	if ok {
		touch(rec)
		*e = wire.Unpacked(rec[recHeader:])
	}
	sh.mu.RUnlock()
	return ok
}

// get finds the answer to q, fresh or not, and the upstream that gave it.
func (s *store) get(key uint64, q *wire.Question, e *wire.Entry) (upstream string, ok bool) {
	sh := s.shardOf(key)
	sh.mu.RLock()
	rec := sh.record(key)
	ok = rec != nil && wire.PackedMatches(rec[recHeader:], q.LName, q.Qtype, q.Qclass, q.Opts)
	if ok {
		touch(rec)
		*e = wire.Unpacked(rec[recHeader:])
		upstream = s.upstreams.name(binary.LittleEndian.Uint16(rec[4:]))
	}
	sh.mu.RUnlock()
	return upstream, ok
}

// record is the live record for key, or nil; sh.mu is held.
func (sh *shard) record(key uint64) []byte {
	pos, ok := sh.index[key]
	if !ok {
		return nil
	}
	seg := sh.segs[uint32(pos>>32)-sh.base]
	off := int(uint32(pos))
	n := int(header(seg.buf, off) & lenMask)
	return seg.buf[off : off+n : off+n]
}

// set keeps e, from upstream, as the answer for key.
func (s *store) set(key uint64, e *wire.Entry, upstream string, now int64) {
	up := s.upstreams.number(upstream)
	sh := s.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	size := recHeader + e.PackedLen()
	seg, off := sh.room(size)
	b := seg.buf[:off+size]
	binary.LittleEndian.PutUint16(b[off+4:], up)
	binary.LittleEndian.PutUint64(b[off+8:], key)
	e.Packed(b[off+recHeader : off+recHeader])
	sh.written(key, seg, off, size)
	sh.evict(now, s.keep)
}

// room is where a record of size bytes goes: the newest segment, or a new
// one when it is full. sh.mu is held.
func (sh *shard) room(size int) (*segment, int) {
	if n := len(sh.segs); n > 0 {
		seg := sh.segs[n-1]
		if off := len(seg.buf); off+padded(size) <= cap(seg.buf) && seg.n < sh.perSeg {
			return seg, off
		}
	}
	seg := &segment{buf: make([]byte, 0, max(sh.segSize, padded(size)))}
	sh.segs = append(sh.segs, seg)
	return seg, 0
}

// written publishes the record just copied into seg at off; sh.mu is held.
func (sh *shard) written(key uint64, seg *segment, off, size int) {
	seg.buf = seg.buf[:off+padded(size)]
	atomic.StoreUint32(headerWord(seg.buf, off), uint32(size))
	seg.n++
	sh.records++
	if _, replaced := sh.index[key]; !replaced {
		sh.live++
	}
	sh.index[key] = uint64(sh.base+uint32(len(sh.segs)-1))<<32 | uint64(off)
}

// evict drops the oldest segments while more records than the bound are
// held, copying forward the answers still wanted. sh.mu is held.
func (sh *shard) evict(now, keep int64) {
	for rounds := len(sh.segs); sh.records > sh.max && len(sh.segs) > 1 && rounds > 0; rounds-- {
		old := sh.segs[0]
		number := sh.base
		sh.segs = slices.Delete(sh.segs, 0, 1)
		sh.base++
		sh.records -= old.n
		// At the bound, the round frees the segment's room, keeping only
		// what was asked for since written: freeing one record and copying
		// the rest forward would make every insert into a full cache copy a
		// segment (Round 11 in docs/performance.md). Below it (the records
		// over the bound are dead copies), what is still fresh is kept.
		low := sh.max - old.n
		for off := 0; off < len(old.buf); {
			word := atomic.LoadUint32(headerWord(old.buf, off))
			size := int(word & lenMask)
			rec := old.buf[off : off+size]
			key := binary.LittleEndian.Uint64(rec[8:])
			if sh.index[key] == uint64(number)<<32|uint64(off) {
				wanted := now < wire.PackedExpires(rec[recHeader:])+keep &&
					(sh.live <= low || word&hitBit != 0)
				if wanted && sh.records < sh.max {
					seg, to := sh.room(size)
					copy(seg.buf[to:to+size], rec)
					sh.written(key, seg, to, size) // still live: only its place changes
					sh.moved++
				} else {
					delete(sh.index, key)
					sh.live--
				}
			}
			off += padded(size)
		}
	}
}

// touch marks a record as asked for, once: eviction gives it a second chance.
func touch(rec []byte) {
	p := headerWord(rec, 0)
	if atomic.LoadUint32(p)&hitBit == 0 {
		atomic.OrUint32(p, hitBit)
	}
}

func header(buf []byte, off int) uint32 { return atomic.LoadUint32(headerWord(buf, off)) }

// headerWord is the record's first word, read and written atomically:
// readers set its hit bit under the shared lock.
func headerWord(buf []byte, off int) *uint32 {
	return (*uint32)(unsafe.Pointer(unsafe.SliceData(buf[off : off+4])))
}

func padded(n int) int { return (n + 7) &^ 7 }

// len is the number of answers held.
func (s *store) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += sh.live
		sh.mu.RUnlock()
	}
	return n
}

// each calls fn with every answer held (unpacked, valid while fn runs) and
// its key; fn may not call back into the store.
func (s *store) each(fn func(key uint64, e *wire.Entry)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for key := range sh.index {
			e := wire.Unpacked(sh.record(key)[recHeader:])
			fn(key, &e)
		}
		sh.mu.RUnlock()
	}
}

// remove drops the answers whose key drop picks, and says how many went.
func (s *store) remove(drop func(key uint64, e *wire.Entry) bool) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for key := range sh.index {
			if e := wire.Unpacked(sh.record(key)[recHeader:]); drop(key, &e) {
				delete(sh.index, key)
				sh.live--
				n++
			}
		}
		if sh.live == 0 {
			// Nothing left: the segments go too (views handed out keep
			// theirs alive until they are done).
			sh.base += uint32(len(sh.segs))
			sh.segs, sh.records = nil, 0
		}
		sh.mu.Unlock()
	}
	return n
}

// upstreamNames numbers the upstreams answers came from: a record holds a
// number, not a string (a handful of upstreams answer millions of names).
type upstreamNames struct {
	mu    sync.Mutex
	names atomic.Pointer[[]string]
}

func (u *upstreamNames) number(name string) uint16 {
	if p := u.names.Load(); p != nil {
		if i := slices.Index(*p, name); i >= 0 {
			return uint16(i)
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var names []string
	if p := u.names.Load(); p != nil {
		names = *p
	}
	if i := slices.Index(names, name); i >= 0 {
		return uint16(i)
	}
	if len(names) == 1<<16-1 {
		return 0 // cannot happen: upstreams are a configured few
	}
	grown := append(slices.Clip(names), name)
	u.names.Store(&grown)
	return uint16(len(grown) - 1)
}

func (u *upstreamNames) name(i uint16) string {
	if p := u.names.Load(); p != nil && int(i) < len(*p) {
		return (*p)[i]
	}
	return ""
}
