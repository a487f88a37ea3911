package cache

import (
	"github.com/maypok86/otter/v2"

	"github.com/s3dns/s3dns/wire"
)

// Flush drops the answers held for name (presentation form, any type and
// bits; "" drops every answer) and forgets every recent failure, as
// unbound-control flush does; it returns how many answers went.
func (c *Cache) Flush(name string) (int, error) {
	if c.store == nil {
		return 0, nil
	}
	n, err := FlushPacked(c.store.m, name)
	if err == nil {
		c.failed.clear()
	}
	return n, err
}

// FlushPacked drops the packed answers for name from m ("" for all of
// them) and says how many went: the cache's and the endpoint answers' flush.
func FlushPacked[V interface{ IsName(lname []byte) bool }](m *otter.Cache[uint64, V], name string) (int, error) {
	if name == "" {
		n := m.EstimatedSize()
		m.InvalidateAll()
		return n, nil
	}
	lname, err := wire.PackName(name)
	if err != nil {
		return 0, err
	}
	n := 0
	for key, a := range m.All() {
		if a.IsName(lname) {
			if _, gone := m.Invalidate(key); gone {
				n++
			}
		}
	}
	return n, nil
}

// Dump describes every answer held.
func (c *Cache) Dump() []wire.Held {
	if c.store == nil {
		return nil
	}
	now := c.clock.Nano()
	var out []wire.Held
	for _, a := range c.store.m.All() {
		h := a.Describe(now)
		h.From = "cache"
		out = append(out, h)
	}
	return out
}
