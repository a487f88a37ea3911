package transport

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/s3dns/s3dns/model"
)

// doneRecorder keeps what each reply's Done was told.
type doneRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (d *doneRecorder) Written(_ []byte, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, err)
}

func (d *doneRecorder) Keep() Done { return d }

// streamPair is a stream on a loopback connection, over TLS (as DoT's,
// whose writes wait) or not, and the client's end.
func streamPair(t *testing.T, limits model.TCP, overTLS bool) (*Stream, net.Conn) {
	t.Helper()
	pki, certs, ln := tlsFixture(t)
	var cli net.Conn
	dialed := make(chan error, 1)
	go func() {
		var err error
		if overTLS {
			cli, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pki.Pool(), NextProtos: []string{"dot"}})
		} else {
			cli, err = net.Dial("tcp", ln.Addr().String())
		}
		dialed <- err
	}()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if overTLS {
		tc := tls.Server(srv, certs.Config("dot"))
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		srv = tc
	}
	if err := <-dialed; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return NewStream(srv, netip.MustParseAddr("127.0.0.1"), limits, nil), cli
}

// A write deadline set for a background writer's batch must not outlive
// it: on a busy connection the reader's own replies went on being written
// without one, and tcp.write_timeout after the last background batch the
// stale deadline failed the next, closing a connection that was reading
// everything (dnsperf lost 100–160 queries a run to it, four connections
// at a time).
func TestStaleWriteDeadlineDoesNotFailTheReader(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "TCP", true: "TLS"}[overTLS], func(t *testing.T) { staleDeadline(t, overTLS) })
	}
}

func staleDeadline(t *testing.T, overTLS bool) {
	s, cli := streamPair(t, model.TCP{WriteTimeout: 100 * time.Millisecond, MaxQueued: 8}, overTLS)
	var d doneRecorder
	reply := []byte("0123456789ab")
	s.owed.Add(2)
	s.Deliver(reply, false, &d) // a full-path reply: written by a background writer, with a deadline
	time.Sleep(250 * time.Millisecond)
	s.Deliver(reply, true, &d) // the reader's, long after that deadline
	_ = cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 2 {
		var frame [2 + 12]byte
		if _, err := io.ReadFull(cli, frame[:]); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
		if binary.BigEndian.Uint16(frame[:]) != uint16(len(reply)) || string(frame[2:]) != string(reply) {
			t.Fatalf("reply %d: %q", i+1, frame)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, err := range d.errs {
		if err != nil {
			t.Errorf("reply %d: %v", i+1, err)
		}
	}
	if s.Broken() {
		t.Error("the connection was closed")
	}
}
