package transport

import (
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// A listen address has one UDP socket per CPU (SO_REUSEPORT), so that a
// saturating load is read on every core. At a light load that costs: the
// kernel's hash spreads the datagrams over every socket, each reader wakes
// for fewer of them, and the runtime hands the work between threads — at
// 10,000 queries/s on two cores, 10–30 % more CPU than one socket. So one
// reader takes every datagram while it is idle most of the time, and the
// kernel spreads them again as soon as it is not (steer_linux.go attaches
// the program that picks the socket).

const (
	// steerWindow is how often the one reader's load is judged: short, so
	// that a burst is spread over every core within a few milliseconds.
	steerWindow = 10 * time.Millisecond
	// spreadWindow is how long a spread load is judged before it is taken
	// back to one reader: long, so that a load near the line does not flap.
	spreadWindow = time.Second
	// spreadAbove: one reader busier than this share of the time spreads.
	spreadAbove = 0.5
	// gatherBelow: readers busy less than this share together (one reader
	// would then be, with room to spare below spreadAbove) gather again.
	gatherBelow = 0.25
)

// Group is one listen address's UDP sockets, index for index with the
// kernel's reuseport group, and what their readers report.
type Group struct {
	socks   []*net.UDPConn
	readers []readerLoad
	log     *slog.Logger
	// spread: the kernel's hash picks the socket; otherwise socket 0.
	spread atomic.Bool
	// judged is when the current window began, in ns since epoch (on the
	// monotonic clock: a step of the wall clock must not stall the
	// judging); the reader that moves it on judges the window that ended.
	epoch  time.Time
	judged atomic.Int64
	// fixed: the kernel refused the program; its hash spreads, always.
	fixed atomic.Bool
}

// readerLoad is one reader's share of the window, on a cache line of its own.
type readerLoad struct {
	busy      atomic.Int64  // ns spent answering this window
	datagrams atomic.Uint64 // read since the start (steered groups), for tests
	_         [48]byte
}

// NewGroup steers socks, one listen address's reuseport group in the order
// they were bound, to one reader while the load is light.
func NewGroup(socks []*net.UDPConn, log *slog.Logger) *Group {
	g := &Group{socks: socks, readers: make([]readerLoad, len(socks)), log: log, epoch: time.Now()}
	if len(socks) < 2 {
		g.fixed.Store(true)
		return g
	}
	if err := steer(socks[0], false); err != nil {
		log.Debug("UDP sockets left to the kernel's hash", "listen", socks[0].LocalAddr().String(), "error", err)
		g.fixed.Store(true)
	}
	return g
}

// steered: the group has more than one socket and the kernel took the
// program; only then do its readers report their batches.
func (g *Group) steered() bool { return !g.fixed.Load() }

// answered records a batch: n datagrams, answered between start and end.
// Reader i of a steered group calls it after every batch; at the end of a
// window it judges.
func (g *Group) answered(i, n int, start, end time.Time) {
	r := &g.readers[i]
	r.busy.Add(int64(end.Sub(start)))
	r.datagrams.Add(uint64(n))
	window := steerWindow
	if g.spread.Load() {
		window = spreadWindow
	}
	began := g.judged.Load()
	now := int64(end.Sub(g.epoch))
	if now-began < int64(window) || !g.judged.CompareAndSwap(began, now) {
		return
	}
	g.judge(time.Duration(now - began))
}

// judge takes the readers' busy time over the window that ended and spreads
// or gathers the datagrams.
func (g *Group) judge(elapsed time.Duration) {
	var total, busiest time.Duration
	for i := range g.readers {
		b := time.Duration(g.readers[i].busy.Swap(0))
		total += b
		busiest = max(busiest, b)
	}
	spread := g.spread.Load()
	next := nextSpread(spread, total, busiest, elapsed)
	if next == spread {
		return
	}
	if err := steer(g.socks[0], next); err != nil {
		g.log.Debug("UDP sockets left to the kernel's hash", "listen", g.socks[0].LocalAddr().String(), "error", err)
		g.fixed.Store(true)
		return
	}
	g.spread.Store(next)
	g.log.Debug("UDP readers", "listen", g.socks[0].LocalAddr().String(), "spread", next, "busy", total, "window", elapsed)
}

// nextSpread decides from a window's busy times whether the datagrams are
// spread over every reader (true) or taken by one (false).
func nextSpread(spread bool, total, busiest, window time.Duration) bool {
	if window <= 0 {
		return spread
	}
	if !spread {
		return float64(busiest) > spreadAbove*float64(window)
	}
	return float64(total) >= gatherBelow*float64(window)
}
