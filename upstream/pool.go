package upstream

import (
	"net"
	"net/netip"
	"syscall"
	"time"
)

// A connected UDP socket costs several system calls to open, register and
// close: most of a cache miss's CPU. Sockets are therefore reused, but only
// briefly: each keeps the random source port the kernel gave it for at most
// poolMaxUses queries and poolMaxAge, one query at a time, so an off-path
// forger still has to guess a fresh port and ID, and a socket whose query
// failed is never reused (a late reply cannot meet the next query).
//
// Up to as many sockets as exchanges may be in flight wait idle: a saturated
// server reads a batch of misses at once and gets their replies back in a
// burst, so a smaller pool closes the burst's sockets only to open them again
// for the next batch (measured: one new socket per two misses with 64).
const (
	poolMaxUses = 64
	poolMaxAge  = 2 * time.Second
)

type pooledConn struct {
	*net.UDPConn
	raw   syscall.RawConn
	local netip.AddrPort
	uses  int
	born  time.Time
}

type udpPool struct {
	raddr *net.UDPAddr
	idle  chan *pooledConn
	now   func() time.Time
}

func newUDPPool(raddr *net.UDPAddr, now func() time.Time, maxIdle int) *udpPool {
	return &udpPool{raddr: raddr, idle: make(chan *pooledConn, maxIdle), now: now}
}

// get returns an idle young socket, or a new one.
func (p *udpPool) get() (*pooledConn, error) {
	for {
		select {
		case c := <-p.idle:
			if p.now().Sub(c.born) < poolMaxAge {
				return c, nil
			}
			c.Close()
			continue
		default:
		}
		conn, err := net.DialUDP("udp", nil, p.raddr)
		if err != nil {
			return nil, err
		}
		raw, err := conn.SyscallConn()
		if err != nil {
			conn.Close()
			return nil, err
		}
		return &pooledConn{UDPConn: conn, raw: raw, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), born: p.now()}, nil
	}
}

// put keeps a socket whose exchange succeeded, while it is young enough.
func (p *udpPool) put(c *pooledConn) {
	c.uses++
	if c.uses >= poolMaxUses || p.now().Sub(c.born) >= poolMaxAge {
		c.Close()
		return
	}
	select {
	case p.idle <- c:
	default:
		c.Close()
	}
}

// close closes the idle sockets (the pool stays usable).
func (p *udpPool) close() {
	for {
		select {
		case c := <-p.idle:
			c.Close()
		default:
			return
		}
	}
}
