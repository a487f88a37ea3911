//go:build !linux

package upstream

import "github.com/miekg/dns"

// roundTrip sends q on c and waits, until c's read deadline, for the reply
// with q's ID and question, using buf.
func roundTrip(c *upstreamSocket, buf []byte, q *dns.Msg, onSpoof func()) (*dns.Msg, error) {
	packed, err := packQuery(buf, q)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(packed); err != nil {
		return nil, err
	}
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		if r, ok := reply(buf[:n], q); ok {
			return r, nil
		}
		// Garbage or a forged reply on a connected socket: keep waiting for the real one.
		if onSpoof != nil {
			onSpoof()
		}
	}
}
