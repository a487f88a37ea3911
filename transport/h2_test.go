package transport

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/s3dns/s3dns/model"
)

// h2Pair is an H2 server on a loopback TCP connection, answering with an
// echo flow, and a raw HTTP/2 client on the other end: the frames each
// side sends are exactly what the test says.
type h2Pair struct {
	t      *testing.T
	c      net.Conn
	fr     *http2.Framer
	hbuf   bytes.Buffer
	enc    *hpack.Encoder
	writes *atomic.Int32 // the server's writes to its socket
	done   chan struct{} // the server's reader ended
}

// echoFlow answers a request with its own message, QR set: at once, or, for
// IDs from 0x8000 up, after 100 ms from another goroutine (a miss).
func echoFlow(h *H2, req *DoHRequest) {
	resp := bytes.Clone(req.Msg)
	resp[2] |= 0x80
	if binary.BigEndian.Uint16(resp) < 0x8000 {
		_ = h.Reply(req.Stream, resp, 60, true)
		return
	}
	id := req.Stream
	h.Pending.Add(1)
	go func() {
		defer h.Pending.Done()
		time.Sleep(100 * time.Millisecond)
		_ = h.Reply(id, resp, 60, false)
	}()
}

// serveEcho serves h with echoFlow until its reader ends, then closes it
// once nothing is owed, as the server's flow does.
func serveEcho(h *H2) {
	defer func() { h.Pending.Wait(); h.Close() }()
	if h.Start() != nil {
		return
	}
	for {
		req, err := h.Next()
		if err != nil {
			return
		}
		echoFlow(h, req)
	}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func newH2Pair(t *testing.T, idle, readTimeout time.Duration, settings ...http2.Setting) *h2Pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &h2Pair{t: t, writes: &atomic.Int32{}, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		serveEcho(NewH2(countingConn{c, p.writes}, model.TCP{WriteTimeout: 2 * time.Second}, idle, readTimeout, func() bool { return false }))
	}()
	if p.c, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.c.Close() })
	_ = p.c.SetDeadline(time.Now().Add(10 * time.Second))
	p.fr = http2.NewFramer(p.c, p.c)
	p.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	p.enc = hpack.NewEncoder(&p.hbuf)
	if _, err := io.WriteString(p.c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return p
}

// query is a DNS message of n octets (at least a header) with ID id.
func query(id uint16, n int) []byte {
	m := make([]byte, max(n, 12))
	binary.BigEndian.PutUint16(m, id)
	for i := 12; i < len(m); i++ {
		m[i] = byte(i)
	}
	return m
}

func (p *h2Pair) headers(fields ...string) []byte {
	p.hbuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = p.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(p.hbuf.Bytes())
}

func (p *h2Pair) postHeaders(id uint32, endStream bool, extra ...string) {
	p.t.Helper()
	fields := append([]string{":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "dns.test",
		"content-type", DoHContentType}, extra...)
	if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.headers(fields...), EndHeaders: true, EndStream: endStream}); err != nil {
		p.t.Fatal(err)
	}
}

func (p *h2Pair) post(id uint32, msg []byte) {
	p.t.Helper()
	p.postHeaders(id, false)
	if err := p.fr.WriteData(id, true, msg); err != nil {
		p.t.Fatal(err)
	}
}

// response is what the server sent on one stream.
type response struct {
	status, ctype, cacheControl, length, allow string
	body                                       []byte
	ended                                      bool
	reset                                      http2.ErrCode
	wasReset                                   bool
}

// frames are what the server sent, by stream, and the connection's own.
type frames struct {
	streams  map[uint32]*response
	goAway   *http2.GoAwayFrame
	pingAck  []byte
	dataSeen int // DATA octets received, on all streams
	settings bool
}

// read reads frames until until is true (or the connection ends); it
// returns what came.
func (p *h2Pair) read(f *frames, until func(*frames) bool) *frames {
	p.t.Helper()
	if f == nil {
		f = &frames{streams: map[uint32]*response{}}
	}
	stream := func(id uint32) *response {
		if f.streams[id] == nil {
			f.streams[id] = &response{}
		}
		return f.streams[id]
	}
	for !until(f) {
		fr, err := p.fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return f
			}
			p.t.Fatalf("reading frames: %v", err)
		}
		switch fr := fr.(type) {
		case *http2.MetaHeadersFrame:
			r := stream(fr.StreamID)
			r.status = fr.PseudoValue("status")
			for _, hf := range fr.RegularFields() {
				switch hf.Name {
				case "content-type":
					r.ctype = hf.Value
				case "cache-control":
					r.cacheControl = hf.Value
				case "content-length":
					r.length = hf.Value
				case "allow":
					r.allow = hf.Value
				}
			}
			r.ended = r.ended || fr.StreamEnded()
		case *http2.DataFrame:
			r := stream(fr.StreamID)
			r.body = append(r.body, fr.Data()...)
			r.ended = r.ended || fr.StreamEnded()
			f.dataSeen += len(fr.Data())
		case *http2.RSTStreamFrame:
			r := stream(fr.StreamID)
			r.reset, r.wasReset = fr.ErrCode, true
		case *http2.GoAwayFrame:
			f.goAway = fr
		case *http2.PingFrame:
			if fr.IsAck() {
				f.pingAck = bytes.Clone(fr.Data[:])
			}
		case *http2.SettingsFrame:
			if !fr.IsAck() {
				f.settings = true
				_ = p.fr.WriteSettingsAck()
			}
		}
	}
	return f
}

// wantClosed waits for the server to end the connection, failing with
// why if it does not within 5 s.
func (p *h2Pair) wantClosed(why string) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.t.Fatal(why)
	}
}

func ended(ids ...uint32) func(*frames) bool {
	return func(f *frames) bool {
		for _, id := range ids {
			if r := f.streams[id]; r == nil || !(r.ended || r.wasReset) {
				return false
			}
		}
		return true
	}
}

func wantEcho(t *testing.T, r *response, msg []byte) {
	t.Helper()
	want := bytes.Clone(msg)
	want[2] |= 0x80
	switch {
	case r == nil:
		t.Fatal("no response")
	case r.status != "200" || r.ctype != DoHContentType || r.cacheControl != "max-age=60":
		t.Fatalf("status %q, content-type %q, cache-control %q", r.status, r.ctype, r.cacheControl)
	case r.length != strconv.Itoa(len(want)) || !bytes.Equal(r.body, want) || !r.ended:
		t.Fatalf("content-length %s, body of %d octets (ended %v), want %d octets echoed", r.length, len(r.body), r.ended, len(want))
	}
}

// POST and GET are answered on one connection; the server's settings come
// first; a PING is acknowledged with its data.
func TestH2AnswersPostAndGet(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	q1, q2 := query(1, 40), query(2, 33)
	p.post(1, q1)
	get := DoHPath + "?ct&dns=" + base64.RawURLEncoding.EncodeToString(q2)
	if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, EndStream: true,
		BlockFragment: p.headers(":method", "GET", ":scheme", "https", ":path", get, ":authority", "dns.test")}); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		t.Fatal(err)
	}
	f := p.read(nil, func(f *frames) bool { return ended(1, 3)(f) && f.pingAck != nil })
	if !f.settings {
		t.Error("no SETTINGS from the server")
	}
	wantEcho(t, f.streams[1], q1)
	wantEcho(t, f.streams[3], q2)
	if !bytes.Equal(f.pingAck, []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("PING ACK %v", f.pingAck)
	}
}

// What HTTP refuses is answered with its status, not handed to the flow.
func TestH2RefusesBadRequests(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	q := query(1, 40)
	hdr := func(id uint32, end bool, fields ...string) {
		if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: end, BlockFragment: p.headers(fields...)}); err != nil {
			t.Fatal(err)
		}
	}
	hdr(1, true, ":method", "GET", ":scheme", "https", ":path", "/other?dns="+base64.RawURLEncoding.EncodeToString(q), ":authority", "a")
	hdr(3, false, ":method", "PUT", ":scheme", "https", ":path", DoHPath, ":authority", "a")
	_ = p.fr.WriteData(3, true, q)
	hdr(5, false, ":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "a", "content-type", "text/plain")
	_ = p.fr.WriteData(5, true, q)
	hdr(7, true, ":method", "GET", ":scheme", "https", ":path", DoHPath, ":authority", "a")
	hdr(9, true, ":method", "GET", ":scheme", "https", ":path", DoHPath+"?dns=%%%", ":authority", "a")
	p.post(11, q[:11]) // shorter than a DNS header
	p.postHeaders(13, false)
	for range 5 { // 80,000 octets: longer than any DNS message
		if err := p.fr.WriteData(13, false, make([]byte, 16000)); err != nil {
			t.Fatal(err)
		}
	}
	p.post(15, q) // the connection still serves
	f := p.read(nil, ended(1, 3, 5, 7, 9, 11, 13, 15))
	for id, want := range map[uint32]string{1: "404", 3: "405", 5: "415", 7: "400", 9: "400", 11: "400", 13: "413"} {
		if r := f.streams[id]; r.status != want || r.ctype != "text/plain; charset=utf-8" || len(r.body) == 0 {
			t.Errorf("stream %d: status %q (%q, %q), want %s with a reason", id, r.status, r.ctype, r.body, want)
		}
	}
	if f.streams[3].allow != "GET, POST" {
		t.Errorf("405 without Allow: %q", f.streams[3].allow)
	}
	if r := f.streams[13]; !r.wasReset || r.reset != http2.ErrCodeNo {
		t.Errorf("a body still arriving after its 413 is not stopped with RST_STREAM(NO_ERROR): %+v", r)
	}
	wantEcho(t, f.streams[15], q)
}

// Replies respect the client's windows: a stream's (INITIAL_WINDOW_SIZE)
// and the connection's; what waits goes out, whole and in order, as the
// client opens them.
func TestH2FlowControl(t *testing.T) {
	t.Run("stream", func(t *testing.T) {
		p := newH2Pair(t, time.Minute, 2*time.Second, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
		q := query(1, 100)
		p.post(1, q)
		f := p.read(nil, func(f *frames) bool { return f.dataSeen >= 10 })
		if f.dataSeen != 10 {
			t.Fatalf("%d DATA octets within a stream window of 10", f.dataSeen)
		}
		if err := p.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if fr, err := p.fr.ReadFrame(); err == nil {
			if d, ok := fr.(*http2.DataFrame); ok {
				t.Fatalf("DATA beyond the stream's window of 10: %d more octets", len(d.Data()))
			}
		}
		_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for range 9 { // 90 more, 10 at a time
			_ = p.fr.WriteWindowUpdate(1, 10)
		}
		f = p.read(f, ended(1))
		wantEcho(t, f.streams[1], q)
	})
	t.Run("connection", func(t *testing.T) {
		p := newH2Pair(t, time.Minute, 2*time.Second)
		// 20 replies of 4,000 octets: 80,000, more than the connection's
		// initial 65,535.
		var qs [][]byte
		for i := range 20 {
			qs = append(qs, query(uint16(i), 4000))
			p.post(uint32(2*i+1), qs[i])
		}
		f := p.read(nil, func(f *frames) bool { return f.dataSeen >= 65535 })
		if f.dataSeen != 65535 {
			t.Fatalf("%d DATA octets within a window of 65,535", f.dataSeen)
		}
		_ = p.fr.WriteWindowUpdate(0, 20000)
		ids := make([]uint32, 20)
		for i := range ids {
			ids[i] = uint32(2*i + 1)
		}
		f = p.read(f, ended(ids...))
		for i, id := range ids {
			wantEcho(t, f.streams[id], qs[i])
		}
	})
}

// Replies the reader makes while more requests wait in its buffer go out
// together: 50 requests sent at once are not answered with 50 writes.
func TestH2BatchesReplies(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	p.read(nil, func(f *frames) bool { return f.settings })
	var batch bytes.Buffer
	bf := http2.NewFramer(&batch, nil)
	var ids []uint32
	for i := range 50 {
		id := uint32(2*i + 1)
		ids = append(ids, id)
		p.hbuf.Reset()
		_ = bf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true,
			BlockFragment: p.headers(":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "a", "content-type", DoHContentType)})
		_ = bf.WriteData(id, true, query(uint16(i), 40))
	}
	before := p.writes.Load()
	if _, err := p.c.Write(batch.Bytes()); err != nil {
		t.Fatal(err)
	}
	f := p.read(nil, ended(ids...))
	for i, id := range ids {
		wantEcho(t, f.streams[id], query(uint16(i), 40))
	}
	n := p.writes.Load() - before
	if n > 10 {
		t.Errorf("50 pipelined requests took %d writes", n)
	}
	t.Logf("50 pipelined requests answered in %d writes", n)
}

// Protocol errors end the connection with GOAWAY and the code that names
// them; a stream error resets that stream only.
func TestH2ProtocolErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(p *h2Pair)
		code http2.ErrCode
	}{
		{"an even stream", func(p *h2Pair) { p.post(2, query(1, 20)) }, http2.ErrCodeProtocol},
		{"DATA on an idle stream", func(p *h2Pair) { _ = p.fr.WriteData(7, true, query(1, 20)) }, http2.ErrCodeProtocol},
		{"a stream opened twice", func(p *h2Pair) {
			p.post(3, query(1, 20))
			p.post(1, query(1, 20))
		}, http2.ErrCodeProtocol},
		{"a client's PUSH_PROMISE", func(p *h2Pair) {
			_ = p.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: p.headers(":method", "GET"), EndHeaders: true})
		}, http2.ErrCodeProtocol},
		{"a window beyond 2^31-1", func(p *h2Pair) {
			_ = p.fr.WriteWindowUpdate(0, 1<<31-1)
			_ = p.fr.WriteWindowUpdate(0, 1<<31-1)
		}, http2.ErrCodeFlowControl},
		{"a window setting beyond 2^31-1", func(p *h2Pair) {
			p.fr.AllowIllegalWrites = true
			_ = p.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 31})
		}, http2.ErrCodeFlowControl},
		{"a frame size setting under 16,384", func(p *h2Pair) {
			_ = p.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1000})
		}, http2.ErrCodeProtocol},
		{"an open stream's window pushed past 2^31-1", func(p *h2Pair) {
			p.post(1, query(0x8001, 20)) // owed for 100 ms: its window is open
			_ = p.fr.WriteWindowUpdate(1, 1<<31-1-65535)
			_ = p.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65536})
		}, http2.ErrCodeFlowControl},
		{"a frame over 16,384 octets", func(p *h2Pair) {
			p.postHeaders(1, false)
			p.fr.AllowIllegalWrites = true
			_ = p.fr.WriteData(1, true, make([]byte, 20000))
		}, http2.ErrCodeFrameSize},
	} {
		t.Run(c.name, func(t *testing.T) { wantGoAway(t, c.send, c.code) })
	}
	t.Run("not HTTP/2", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		started := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				started <- err
				return
			}
			defer c.Close()
			started <- NewH2(c, model.TCP{WriteTimeout: time.Second}, time.Minute, 2*time.Second, func() bool { return false }).Start()
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /dns-query HTTP/1.1\r\nHost: a\r\n\r\n")
		if err := <-started; !errors.Is(err, errH2Preface) {
			t.Fatalf("Start: %v, want %v", err, errH2Preface)
		}
	})
	t.Run("headers on a stream already asked", func(t *testing.T) {
		p := newH2Pair(t, time.Minute, 2*time.Second)
		q := query(0x8001, 20) // answered later: the stream stays open
		p.post(1, q)
		p.postHeaders(1, true)
		f := p.read(nil, ended(1))
		if r := f.streams[1]; !r.wasReset || r.reset != http2.ErrCodeStreamClosed {
			t.Fatalf("stream 1: %+v, want RST_STREAM(STREAM_CLOSED)", r)
		}
		q2 := query(2, 20)
		p.post(3, q2)
		wantEcho(t, p.read(nil, ended(3)).streams[3], q2)
	})
}

// wantGoAway sends what send writes on a fresh connection and wants it
// ended with GOAWAY(code), then closed.
func wantGoAway(t *testing.T, send func(p *h2Pair), code http2.ErrCode) {
	t.Helper()
	p := newH2Pair(t, time.Minute, 2*time.Second)
	send(p)
	f := p.read(nil, func(f *frames) bool { return f.goAway != nil })
	if f.goAway == nil || f.goAway.ErrCode != code {
		t.Fatalf("GOAWAY %+v, want %v", f.goAway, code)
	}
	p.wantClosed("the connection was not closed after GOAWAY")
}

// A stream the client resets gets nothing more; the others are answered.
func TestH2ResetStreamDropsItsReply(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	late := query(0x8001, 30)
	p.post(1, late)
	if err := p.fr.WriteRSTStream(1, http2.ErrCodeCancel); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the late reply would be written by now
	q := query(3, 30)
	p.post(3, q)
	f := p.read(nil, ended(3))
	wantEcho(t, f.streams[3], q)
	if r := f.streams[1]; r != nil {
		t.Fatalf("the reset stream got frames: %+v", r)
	}
}

// At MAX_CONCURRENT_STREAMS open streams, the next is refused.
func TestH2RefusesStreamsBeyondTheLimit(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	for i := range h2MaxStreams {
		p.postHeaders(uint32(2*i+1), false)
	}
	over := uint32(2*h2MaxStreams + 1)
	p.postHeaders(over, false)
	f := p.read(nil, ended(over))
	if r := f.streams[over]; r.reset != http2.ErrCodeRefusedStream {
		t.Fatalf("stream %d: %+v, want REFUSED_STREAM", over, r)
	}
	// Ending an open one answers it.
	q := query(1, 20)
	if err := p.fr.WriteData(1, true, q); err != nil {
		t.Fatal(err)
	}
	wantEcho(t, p.read(f, ended(1)).streams[1], q)
}

// A header block split over CONTINUATION frames, padded frames and a body
// in several DATA frames make one request.
func TestH2ContinuationPaddingAndSplitBodies(t *testing.T) {
	p := newH2Pair(t, time.Minute, 2*time.Second)
	block := p.headers(":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "dns.test", "content-type", DoHContentType)
	if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:5], PadLength: 7}); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WriteContinuation(1, false, block[5:9]); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WriteContinuation(1, true, block[9:]); err != nil {
		t.Fatal(err)
	}
	q := query(1, 300)
	_ = p.fr.WriteDataPadded(1, false, q[:100], make([]byte, 20))
	_ = p.fr.WriteData(1, false, q[100:250])
	_ = p.fr.WriteDataPadded(1, true, q[250:], make([]byte, 3))
	wantEcho(t, p.read(nil, ended(1)).streams[1], q)
}

// With nothing open the connection is closed after the idle timeout, with
// GOAWAY(NO_ERROR) first; a reply owed keeps it open past the timeout
// (RFC 7766 §6.2.3's rule): a reply 100 ms after its request, with an idle
// timeout of 50 ms, still arrives.
func TestH2IdleOnlyWhenIdle(t *testing.T) {
	p := newH2Pair(t, 50*time.Millisecond, 2*time.Second)
	q := query(0x8001, 30) // answered after 100 ms
	p.post(1, q)
	f := p.read(nil, ended(1))
	wantEcho(t, f.streams[1], q)
	replied := time.Now()
	f = p.read(f, func(f *frames) bool { return f.goAway != nil })
	if f.goAway == nil || f.goAway.ErrCode != http2.ErrCodeNo || f.goAway.LastStreamID != 1 {
		t.Fatalf("GOAWAY %+v, want NO_ERROR after stream 1", f.goAway)
	}
	if since := time.Since(replied); since < 40*time.Millisecond {
		t.Errorf("closed %v after the last reply, before its idle timeout of 50 ms", since)
	}
	p.wantClosed("the idle connection was not closed")
}

// A stream opened without the rest of its request does not hold the
// connection: with nothing owed, it ends after the read timeout, with
// GOAWAY.
func TestH2PartialRequestTimesOut(t *testing.T) {
	p := newH2Pair(t, time.Minute, 200*time.Millisecond)
	p.postHeaders(1, false) // and no body
	// Waiting for the idle timeout (a minute) would run into the client's
	// own 10 s deadline and fail the read.
	f := p.read(nil, func(f *frames) bool { return f.goAway != nil })
	if f.goAway == nil || f.goAway.ErrCode != http2.ErrCodeNo {
		t.Fatalf("GOAWAY %+v, want NO_ERROR", f.goAway)
	}
	p.wantClosed("the connection was not closed")
}

// Whatever bytes follow the preface, the server neither panics nor hangs.
func FuzzH2Frames(f *testing.F) {
	var seed bytes.Buffer
	sf := http2.NewFramer(&seed, nil)
	_ = sf.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "POST"}, {":path", DoHPath}, {"content-type", DoHContentType}} {
		_ = enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	_ = sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
	_ = sf.WriteData(1, true, query(1, 30))
	f.Add(seed.Bytes())
	// A padded, prioritised HEADERS and two CONTINUATIONs: the header
	// block reader's paths.
	var split bytes.Buffer
	xf := http2.NewFramer(&split, nil)
	_ = xf.WriteSettings()
	block := hb.Bytes()
	_ = xf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:2], PadLength: 3,
		Priority: http2.PriorityParam{StreamDep: 0, Weight: 7}})
	_ = xf.WriteContinuation(1, false, block[2:4])
	_ = xf.WriteContinuation(1, true, block[4:])
	_ = xf.WriteData(1, true, query(2, 30))
	f.Add(split.Bytes())
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 1, 255, 255})
	f.Add(append(bytes.Clone(seed.Bytes()[:9]), 0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, cli := net.Pipe()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(io.Discard, cli)
		}()
		done := make(chan struct{})
		go func() {
			defer close(done)
			serveEcho(NewH2(srv, model.TCP{WriteTimeout: time.Second}, time.Second, time.Second, func() bool { return false }))
		}()
		w := append([]byte(http2.ClientPreface), data...)
		go func() {
			_, _ = cli.Write(w)
			time.Sleep(10 * time.Millisecond)
			cli.Close()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the server hangs")
		}
		wg.Wait()
	})
}
