package transport

import (
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
)

// failingOnce fails its first Accept as a process out of descriptors would.
type failingOnce struct {
	net.Listener
	failed atomic.Bool
}

func (l *failingOnce) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

// The DoH listener outlives a failed accept (EMFILE, say): the next
// client's handshake is done and its connection handed on; only closing
// the listener ends it.
func TestDoHListenerOutlivesAFailedAccept(t *testing.T) {
	pki, certs, ln := tlsFixture(t)
	var handshakes atomic.Int32
	hl := DoHListener(&failingOnce{Listener: ln}, certs.Config("h2"), Handshakes{Timeout: 5 * time.Second,
		OK: func() { handshakes.Add(1) }, Failed: func(_ net.Addr, err error) { t.Errorf("handshake: %v", err) }})
	pool := pki.Pool()
	go func() {
		if c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}}); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	c, err := hl.Accept()
	if err != nil {
		t.Fatalf("after a failed accept: %v", err)
	}
	c.Close()
	if handshakes.Load() != 1 {
		t.Errorf("%d handshakes counted, want 1", handshakes.Load())
	}
	hl.Close()
	if _, err := hl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// tlsFixture is a CA, a server certificate for 127.0.0.1 it issued, loaded,
// and a TCP listener on loopback for a TLS listener to wrap.
func tlsFixture(t *testing.T) (*dnstest.PKI, *Certificates, net.Listener) {
	t.Helper()
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(time.Hour), "127.0.0.1")
	certs, err := LoadCertificates(model.TLS{CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return pki, certs, ln
}
