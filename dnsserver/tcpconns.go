package dnsserver

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
)

// tcpConns tracks the open connections: which each client holds, and
// which to stop and close at shutdown.
type tcpConns struct {
	mu        sync.Mutex
	perClient map[netip.Addr][]held // oldest first
	open      map[held]struct{}
	stopped   bool
}

// held is a connection holding one of the server's slots: a TCP or DoT
// stream (tcpConn), or a DoH connection (dohConn).
type held interface {
	Client() netip.Addr
	RemoteAddr() net.Addr
	Owed() int32  // replies in flight; a connection with none may give way
	Shut()        // close in order, for a newer connection of its client
	StopReading() // the server is stopping: what is in flight is still answered
	Close() error
}

// add takes a slot for c, or says why there is none. At the per-client
// cap the client's oldest connection with nothing in flight gives its slot
// to c (evicted, for the caller to close): a resolver's pool of idle
// connections must never lock it out.
func (t *tcpConns) add(c held, maxTotal, maxPerClient int) (evicted held, reason string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := c.Client().WithZone("")
	mine := t.perClient[key]
	switch {
	case t.stopped:
		return nil, refusedLimit, false
	case maxPerClient > 0 && len(mine) >= maxPerClient:
		i := slices.IndexFunc(mine, func(o held) bool { return o.Owed() == 0 })
		if i < 0 {
			return nil, refusedPerClient, false
		}
		evicted = mine[i]
		t.drop(evicted)
	case len(t.open) >= maxTotal:
		return nil, refusedLimit, false
	}
	t.perClient[key] = append(t.perClient[key], c)
	t.open[c] = struct{}{}
	return evicted, "", true
}

func (t *tcpConns) remove(c held) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(c)
}

// drop forgets c, if it is still held.
func (t *tcpConns) drop(c held) {
	if _, ok := t.open[c]; !ok {
		return
	}
	delete(t.open, c)
	key := c.Client().WithZone("")
	rest := slices.DeleteFunc(t.perClient[key], func(o held) bool { return o == c })
	if len(rest) == 0 {
		delete(t.perClient, key)
	} else {
		t.perClient[key] = rest
	}
}

// stopReading ends every connection's wait for its next query; the answers
// in flight are still written.
func (t *tcpConns) stopReading() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for c := range t.open {
		c.StopReading()
	}
}

// closeAll closes what is still open, outside the lock: a DoH connection
// gives its slot back as it closes.
func (t *tcpConns) closeAll() {
	t.mu.Lock()
	open := slices.Collect(maps.Keys(t.open))
	t.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}
