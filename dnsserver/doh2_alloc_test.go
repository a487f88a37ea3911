package dnsserver

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/s3dns/s3dns/internal/dnstest"
	"github.com/s3dns/s3dns/model"
)

// rawH2 is an HTTP/2 DoH client that allocates nothing per request, so
// that counting a process's allocations counts the server's (and
// crypto/tls's): each request is the same HEADERS block (indexed, as a
// real client's after its first) and DATA, the stream id patched in.
type rawH2 struct {
	conn   *tls.Conn
	frames []byte // HEADERS then DATA
	dataAt int    // where the DATA frame starts
	stream uint32
	buf    []byte
}

func newRawH2(t testing.TB, pki *dnstest.PKI, addr string, pkt []byte) *rawH2 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.Pool(), NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fr := http2.NewFramer(conn, nil)
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The server may send as much as it likes on the connection.
	if err := fr.WriteWindowUpdate(0, 1<<31-1-65535); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := func() {
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":path", dohPath},
			{":authority", "127.0.0.1"}, {"content-type", dohContentType}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
	}
	fields() // into both tables: the first request's block
	first := append([]byte(nil), block.Bytes()...)
	block.Reset()
	fields() // indexed from now on
	c := &rawH2{conn: conn, buf: make([]byte, 1<<16)}
	c.frames = appendFrame(nil, http2.FrameHeaders, http2.FlagHeadersEndHeaders, block.Bytes())
	c.dataAt = len(c.frames)
	c.frames = appendFrame(c.frames, http2.FrameData, http2.FlagDataEndStream, pkt)
	// The first request carries the literal block.
	c.send(append(appendFrame(nil, http2.FrameHeaders, http2.FlagHeadersEndHeaders, first), c.frames[c.dataAt:]...), t)
	c.awaitReply(t)
	return c
}

func appendFrame(dst []byte, typ http2.FrameType, flags http2.Flags, payload []byte) []byte {
	n := len(payload)
	dst = append(dst, byte(n>>16), byte(n>>8), byte(n), byte(typ), byte(flags), 0, 0, 0, 0)
	return append(dst, payload...)
}

// send writes frames as the next stream's.
func (c *rawH2) send(frames []byte, t testing.TB) {
	c.stream += 2
	if c.stream == 2 {
		c.stream = 1
	}
	for at := 0; at < len(frames); {
		n := int(frames[at])<<16 | int(frames[at+1])<<8 | int(frames[at+2])
		binary.BigEndian.PutUint32(frames[at+5:], c.stream)
		at += 9 + n
	}
	if _, err := c.conn.Write(frames); err != nil {
		t.Fatal(err)
	}
}

// awaitReply reads frames until the stream's reply ends.
func (c *rawH2) awaitReply(t testing.TB) {
	for {
		if _, err := io.ReadFull(c.conn, c.buf[:9]); err != nil {
			t.Fatal(err)
		}
		n := int(c.buf[0])<<16 | int(c.buf[1])<<8 | int(c.buf[2])
		typ, flags := http2.FrameType(c.buf[3]), http2.Flags(c.buf[4])
		id := binary.BigEndian.Uint32(c.buf[5:9]) & (1<<31 - 1)
		if _, err := io.ReadFull(c.conn, c.buf[:n]); err != nil {
			t.Fatal(err)
		}
		if typ == http2.FrameRSTStream || typ == http2.FrameGoAway {
			t.Fatalf("the server ended the request: frame %v", typ)
		}
		if id == c.stream && (typ == http2.FrameData || typ == http2.FrameHeaders) && flags.Has(http2.FlagDataEndStream) {
			return
		}
	}
}

func (c *rawH2) roundTrip(t testing.TB) {
	c.send(c.frames, t)
	c.awaitReply(t)
}

// A cached answer over s3dns's HTTP/2 allocates nothing beyond crypto/tls's
// own (a bare TLS echo's), as over DoT: header blocks are decoded without
// a frame or field list per request (readHeaderFrame), DATA frames reused,
// and the reply's changing fields written without strings. (x/net's
// ReadMetaHeaders path took 14 more per request.)
func TestDoH2ReaderAllocatesNothing(t *testing.T) {
	if raceDetector {
		t.Skip("under -race crypto/tls's own allocations vary from one round trip to the next; go test ./... (the README's command) runs this")
	}
	pki := dnstest.NewPKI(t)
	cert, key := pki.Server(t, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, _, doh, _ := encryptedServer(t, pki, model.TLS{CertFile: cert, KeyFile: key})
	h.query(t, listed, dns.TypeA) // cached
	pkt, _ := question(listed, dns.TypeA).Pack()
	c := newRawH2(t, pki, doh, pkt)
	c.roundTrip(t)
	n := testing.AllocsPerRun(200, func() { c.roundTrip(t) })
	bare := dotAllocsPerRoundTrip(t, pki, tlsEcho(t, cert, key), pkt)
	if n > bare {
		t.Fatalf("%v allocations per cached DoH request over HTTP/2, %v beyond crypto/tls's own (a bare TLS echo: %v)", n, n-bare, bare)
	}
}

// BenchmarkDoH2Cached is a cached answer over HTTP/2, the client's side
// allocation-free: its allocs/op are the server's and crypto/tls's.
func BenchmarkDoH2Cached(b *testing.B) {
	pki := dnstest.NewPKI(b)
	cert, key := pki.Server(b, time.Now().Add(24*time.Hour), "127.0.0.1")
	h, _, doh, _ := encryptedServerWith(b, baseConfig(), model.TLS{CertFile: cert, KeyFile: key})
	h.query(b, listed, dns.TypeA)
	pkt, _ := question(listed, dns.TypeA).Pack()
	c := newRawH2(b, pki, doh, pkt)
	b.ReportAllocs()
	for b.Loop() {
		c.roundTrip(b)
	}
}
