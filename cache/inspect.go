package cache

import "github.com/s3dns/s3dns/wire"

// Flush drops the answers held for name (presentation form, any type and
// bits; "" drops every answer) and forgets its recent failures, as
// unbound-control flush does; it returns how many answers went.
func (c *Cache) Flush(name string) (int, error) {
	if c.store == nil {
		return 0, nil
	}
	if name == "" {
		n := c.store.len()
		c.store.m.InvalidateAll()
		c.failed.clear()
		return n, nil
	}
	lname, err := wire.PackName(name)
	if err != nil {
		return 0, err
	}
	n := 0
	for key, a := range c.store.m.All() {
		if a.IsName(lname) {
			if _, gone := c.store.m.Invalidate(key); gone {
				n++
			}
		}
	}
	c.failed.clear()
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
