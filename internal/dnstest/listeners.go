package dnstest

import (
	"crypto/tls"
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
	return serveOn(t, ln, handle)
}

// TLSListener is a TLS listener on 127.0.0.1 serving the certificate in
// certFile and keyFile; it closes when the test ends.
func TLSListener(t testing.TB, certFile, keyFile string) net.Listener {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TLSServing is a TLSListener that hands each connection to handle, on a
// goroutine of its own.
func TLSServing(t testing.TB, certFile, keyFile string, handle func(net.Conn)) net.Listener {
	t.Helper()
	return serveOn(t, TLSListener(t, certFile, keyFile), func(c net.Conn) { go handle(c) })
}

// serveOn accepts on ln until the test ends, handing each connection to
// handle in the accepting goroutine.
func serveOn(t testing.TB, ln net.Listener, handle func(net.Conn)) net.Listener {
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
