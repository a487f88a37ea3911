package dnstest

import (
	"net"
	"sync"
	"testing"
)

// Accepting listens on addr and closes every connection at once: a port
// that passes a TCP health probe. It stops when the test ends.
func Accepting(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	return serve(t, network, addr, func(c net.Conn) { c.Close() })
}

// Stalled listens on addr and holds every connection open without ever
// reading it: a collector that stopped reading. It stops when the test ends.
func Stalled(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return serve(t, network, addr, func(c net.Conn) {
		mu.Lock()
		held = append(held, c)
		mu.Unlock()
	})
}

func serve(t testing.TB, network, addr string, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	return ln
}
