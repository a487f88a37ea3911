package dnsserver

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// tcpConns tracks the open connections: which each client holds, and
// which to stop and close at shutdown.
type tcpConns struct {
	mu        sync.Mutex
	perClient map[netip.Addr][]*tcpConn // oldest first
	open      map[*tcpConn]struct{}
	stopped   bool
}

// add takes a slot for c, or says why there is none. At the per-client
// cap the client's oldest connection with nothing in flight gives its slot
// to c (evicted, for the caller to close): a resolver's pool of idle
// connections must never lock it out.
func (t *tcpConns) add(c *tcpConn, maxTotal, maxPerClient int) (evicted *tcpConn, reason string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := c.Client().WithZone("")
	held := t.perClient[key]
	switch {
	case t.stopped:
		return nil, refusedLimit, false
	case maxPerClient > 0 && len(held) >= maxPerClient:
		i := slices.IndexFunc(held, func(o *tcpConn) bool { return o.Owed() == 0 })
		if i < 0 {
			return nil, refusedPerClient, false
		}
		evicted = held[i]
		t.drop(evicted)
	case len(t.open) >= maxTotal:
		return nil, refusedLimit, false
	}
	t.perClient[key] = append(t.perClient[key], c)
	t.open[c] = struct{}{}
	return evicted, "", true
}

func (t *tcpConns) remove(c *tcpConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(c)
}

// drop forgets c, if it is still held.
func (t *tcpConns) drop(c *tcpConn) {
	if _, ok := t.open[c]; !ok {
		return
	}
	delete(t.open, c)
	key := c.Client().WithZone("")
	held := slices.DeleteFunc(t.perClient[key], func(o *tcpConn) bool { return o == c })
	if len(held) == 0 {
		delete(t.perClient, key)
	} else {
		t.perClient[key] = held
	}
}

// stopReading ends every connection's wait for its next query; the answers
// in flight are still written.
func (t *tcpConns) stopReading() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for c := range t.open {
		_ = c.SetReadDeadline(time.Unix(1, 0))
	}
}

func (t *tcpConns) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.open {
		c.Close()
	}
}
