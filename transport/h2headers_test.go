package transport

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// Header blocks the server cannot take: the connection's errors end it
// with GOAWAY and the code RFC 9113 names.
func TestH2HeaderBlockConnectionErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(p *h2Pair)
		code http2.ErrCode
	}{
		{"HEADERS on stream 0", func(p *h2Pair) {
			p.fr.AllowIllegalWrites = true
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 0, BlockFragment: p.headers(":method", "POST"), EndHeaders: true})
		}, http2.ErrCodeProtocol},
		{"CONTINUATION without HEADERS", func(p *h2Pair) {
			p.fr.AllowIllegalWrites = true
			_ = p.fr.WriteContinuation(1, true, p.headers(":method", "POST"))
		}, http2.ErrCodeProtocol},
		{"another frame inside a header block", func(p *h2Pair) {
			block := p.headers(":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "a")
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:3]})
			_ = p.fr.WritePing(false, [8]byte{})
		}, http2.ErrCodeProtocol},
		{"CONTINUATION of another stream", func(p *h2Pair) {
			block := p.headers(":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "a")
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:3]})
			_ = p.fr.WriteContinuation(3, true, block[3:])
		}, http2.ErrCodeProtocol},
		{"HEADERS padding past its payload", func(p *h2Pair) {
			block := p.headers(":method", "POST")
			frame := append([]byte{0, 0, byte(1 + len(block)), byte(http2.FrameHeaders), byte(http2.FlagHeadersEndHeaders | http2.FlagHeadersPadded), 0, 0, 0, 1,
				byte(len(block) + 1)}, block...)
			_, _ = p.c.Write(frame)
		}, http2.ErrCodeProtocol},
		{"a header block that does not decode", func(p *h2Pair) {
			// An index far past both tables.
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0xff, 0xff, 0xff, 0x0f}, EndHeaders: true})
		}, http2.ErrCodeCompression},
		{"a header block cut short", func(p *h2Pair) {
			block := p.headers(":method", "POST", ":path", DoHPath, "x-long", strings.Repeat("v", 100))
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:len(block)-10], EndHeaders: true})
		}, http2.ErrCodeCompression},
		{"a header value longer than the header list may be", func(p *h2Pair) {
			block := p.headers(":method", "POST", "x-long", strings.Repeat("v", h2MaxHeaders+1)) // Huffman: fits a frame
			_ = p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndHeaders: true})
		}, http2.ErrCodeCompression},
	} {
		t.Run(c.name, func(t *testing.T) { wantGoAway(t, c.send, c.code) })
	}
}

// A malformed request (RFC 9113 §8.1.1) resets its stream with
// PROTOCOL_ERROR; the connection, its header tables in step, serves the
// next one. A header list over SETTINGS_MAX_HEADER_LIST_SIZE gets 431.
func TestH2MalformedRequestsResetTheirStream(t *testing.T) {
	req := []string{":method", "POST", ":scheme", "https", ":path", DoHPath, ":authority", "a", "content-type", DoHContentType}
	for _, c := range []struct {
		name   string
		fields []string
	}{
		{"an upper-case field name", append(append([]string{}, req...), "X-Upper", "1")},
		{"a pseudo-header after a regular one", append([]string{"accept", "*/*"}, req...)},
		{"an unknown pseudo-header", []string{":method", "POST", ":scheme", "https", ":path", DoHPath, ":status", "200", "content-type", DoHContentType}},
		{"a pseudo-header twice", []string{":method", "POST", ":scheme", "https", ":path", DoHPath, ":path", DoHPath, ":authority", "a"}},
		{"a value with a line feed", append(append([]string{}, req...), "x-bad", "a\nb")},
		{"a connection-specific field", append(append([]string{}, req...), "connection", "keep-alive")},
		{"te other than trailers", append(append([]string{}, req...), "te", "gzip")},
		{"a stream that depends on itself", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newH2Pair(t, time.Minute, 2*time.Second)
			hp := http2.HeadersFrameParam{StreamID: 1, BlockFragment: p.headers(c.fields...), EndHeaders: true}
			if c.fields == nil {
				hp.BlockFragment = p.headers(req...)
				hp.Priority = http2.PriorityParam{StreamDep: 1, Weight: 15}
			}
			if err := p.fr.WriteHeaders(hp); err != nil {
				t.Fatal(err)
			}
			_ = p.fr.WriteData(1, true, query(1, 20))
			q := query(2, 30)
			p.post(3, q)
			f := p.read(nil, ended(1, 3))
			if r := f.streams[1]; !r.wasReset || r.reset != http2.ErrCodeProtocol || r.status != "" {
				t.Errorf("stream 1: %+v, want RST_STREAM(PROTOCOL_ERROR) and no response", r)
			}
			wantEcho(t, f.streams[3], q)
		})
	}
	t.Run("te: trailers is allowed", func(t *testing.T) {
		p := newH2Pair(t, time.Minute, 2*time.Second)
		q := query(3, 30)
		p.postHeaders(1, false, "te", "trailers")
		_ = p.fr.WriteData(1, true, q)
		wantEcho(t, p.read(nil, ended(1)).streams[1], q)
	})
	t.Run("a header list too long", func(t *testing.T) {
		p := newH2Pair(t, time.Minute, 2*time.Second)
		fields := append([]string{}, req...)
		for i := range 6 { // 18,000 octets decoded, about 11,000 sent (Huffman)
			fields = append(fields, "x-pad-"+string(rune('a'+i)), strings.Repeat("a", 3000))
		}
		block := p.headers(fields...)
		if len(block) > h2MaxFrame {
			t.Fatalf("the block (%d octets) does not fit one frame", len(block))
		}
		if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndHeaders: true, EndStream: true}); err != nil {
			t.Fatal(err)
		}
		q := query(2, 30)
		p.post(3, q)
		f := p.read(nil, ended(1, 3))
		if r := f.streams[1]; r.status != "431" {
			t.Errorf("stream 1: %+v, want 431", r)
		}
		wantEcho(t, f.streams[3], q)
	})
}
