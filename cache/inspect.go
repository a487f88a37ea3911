package cache

import (
	"github.com/s3dns/s3dns/wire"
)

// Flush drops the answers held for name (presentation form, any type and
// bits; "" drops every answer) and forgets every recent failure, as
// unbound-control flush does; it returns how many answers went.
func (c *Cache) Flush(name string) (int, error) {
	if c.store == nil {
		return 0, nil
	}
	is, err := wire.IsNamed(name)
	if err != nil {
		return 0, err
	}
	n := c.store.remove(func(_ uint64, e *wire.Entry) bool { return is(e) })
	c.failed.clear()
	c.rechecks.InvalidateAll()
	return n, nil
}

// Dump describes every answer held.
func (c *Cache) Dump() []wire.Held {
	if c.store == nil {
		return nil
	}
	now := c.clock.Nano()
	var out []wire.Held
	c.store.each(func(_ uint64, e *wire.Entry) {
		h := e.Describe(now)
		h.From = "cache"
		out = append(out, h)
	})
	return out
}
