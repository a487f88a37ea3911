package transport

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/s3dns/s3dns/model"
)

// H2 is one DNS over HTTPS connection spoken in HTTP/2 (RFC 9113) by s3dns
// itself rather than by net/http, whose server spends a goroutine, a header
// map and a response writer on every request and a system call on every
// frame it writes (Round 10 in docs/performance.md). Frames are read on the
// connection's goroutine, which hands the flow one DoH request at a time
// (Next); replies (Reply) are framed into one buffer, written when the
// reader has no whole frame left to read or at once when they come from
// elsewhere. golang.org/x/net/http2's Framer reads and writes the frames and
// checks their order and sizes; its hpack the header blocks.
type H2 struct {
	conn        net.Conn
	br          *bufio.Reader
	fr          *http2.Framer // reads only; header blocks are read by readHeaderFrame
	dec         *hpack.Decoder
	limits      model.TCP
	idle        time.Duration // with no stream open
	readTimeout time.Duration // for the preface, and for a request's rest
	stopping    func() bool   // the server's
	stopped     atomic.Bool   // this connection's (Stop)

	// The reader's own, touched by no one else.
	lastID   uint32 // the highest stream the client opened
	recvLeft int32  // connection-level DATA the client may still send
	recvOwed uint32 // DATA read and not yet given back in a WINDOW_UPDATE
	req      DoHRequest
	hb       headerBlock
	greeted  bool // the client's SETTINGS came

	// Pending counts replies owed by the flow's full path and writers not
	// done: the connection closes only after them.
	Pending sync.WaitGroup

	mu         sync.Mutex // guards the fields below
	streams    map[uint32]*stream
	owed       int    // streams whose request was handed over and reply not all written
	out, spare []byte // frames to write; the writer swaps them
	wfr        *http2.Framer
	enc        *hpack.Encoder
	hbuf       bytes.Buffer
	sendLeft   int64     // connection-level window for our DATA
	initWindow int32     // the client's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame   uint32    // the client's SETTINGS_MAX_FRAME_SIZE
	blocked    []uint32  // streams whose reply DATA waits for a window, oldest first
	free       []*stream // closed streams, for the reader to reuse
	awaiting   bool      // the reader waits for a frame
	broken     bool

	wmu sync.Mutex // one socket writer at a time
}

// stream is a request being read, or a reply owed.
type stream struct {
	id        uint32
	owed      bool   // the request was handed over: a reply is owed
	replied   bool   // its response's HEADERS are framed
	reset     bool   // reset: a reply still to come goes nowhere
	window    int32  // what the client lets us send on it
	received  int    // DATA octets read on it, padding included
	post      bool   // POST: the body is the message
	body      []byte // the message: a GET's decoded, a POST's so far
	blocked   []byte // reply DATA waiting for the client's window
	forwarded string
	xff       []string
}

// DoHRequest is one request's DNS message and what the headers say of its
// client. Msg is valid until the next call to Next.
type DoHRequest struct {
	Stream        uint32
	Msg           []byte
	Forwarded     string   // RFC 7239
	XForwardedFor []string // each header's value, in order
}

// HTTP/2 settings of the server side.
const (
	h2MaxStreams = 1000 // far more than a resolver keeps outstanding (dnsperf: 200); the flow caps its misses
	// h2StreamWindow lets a client send a whole 65,535-octet message and
	// more on a stream, so that a longer body is seen (and refused with 413)
	// instead of stalling on the window.
	h2StreamWindow = 1 << 17
	h2ConnWindow   = 1 << 20
	h2MaxHeaders   = 16 << 10
	h2MaxFrame     = 16384 // SETTINGS_MAX_FRAME_SIZE: the default, not sent
	h2Preface      = http2.ClientPreface
	maxMessage     = 0xffff
	h2WriteBatch   = 32 << 10 // the reader writes sooner than this much
)

// NewH2 takes over c, a TLS connection that chose h2. idle bounds the wait
// with nothing open, readTimeout the client's preface and the rest of a
// request once its stream is open.
func NewH2(c net.Conn, limits model.TCP, idle, readTimeout time.Duration, stopping func() bool) *H2 {
	h := &H2{conn: c, limits: limits, idle: idle, readTimeout: readTimeout, stopping: stopping,
		br: bufio.NewReaderSize(c, 32<<10), streams: map[uint32]*stream{},
		initWindow: 65535, maxFrame: h2MaxFrame, sendLeft: 65535, recvLeft: 65535}
	h.fr = http2.NewFramer(nil, h.br)
	h.fr.SetMaxReadFrameSize(h2MaxFrame) // the Framer's own default is 16 MiB
	h.fr.SetReuseFrames()                // a DATA frame is done with before the next is read
	h.dec = hpack.NewDecoder(4096, h.onField)
	h.dec.SetMaxStringLength(h2MaxHeaders)
	h.wfr = http2.NewFramer((*outWriter)(h), nil)
	h.enc = hpack.NewEncoder(&h.hbuf)
	return h
}

// outWriter appends the write Framer's frames to out; h.mu is held.
type outWriter H2

func (w *outWriter) Write(p []byte) (int, error) {
	w.out = append(w.out, p...)
	return len(p), nil
}

// PeerNames are the verified client certificate's names, nil without one.
func (h *H2) PeerNames() []string {
	if tc, ok := h.conn.(*tls.Conn); ok {
		return PeerNames(tc.ConnectionState())
	}
	return nil
}

// RemoteAddr and LocalAddr are the connection's.
func (h *H2) RemoteAddr() net.Addr { return h.conn.RemoteAddr() }
func (h *H2) LocalAddr() net.Addr  { return h.conn.LocalAddr() }

// Errors Next ends with besides the socket's.
var (
	errH2Preface  = errors.New("not an HTTP/2 client preface")
	errH2GoneAway = errors.New("the connection was closed for a protocol error")
)

// Start reads the client's preface and sends the server's settings.
func (h *H2) Start() error {
	_ = h.conn.SetReadDeadline(time.Now().Add(h.readTimeout))
	var p [len(h2Preface)]byte
	if _, err := io.ReadFull(h.br, p[:]); err != nil {
		return err
	}
	if string(p[:]) != h2Preface {
		return errH2Preface
	}
	h.mu.Lock()
	_ = h.wfr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: h2MaxStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaders},
	)
	_ = h.wfr.WriteWindowUpdate(0, h2ConnWindow)
	h.mu.Unlock()
	h.recvLeft += h2ConnWindow
	return h.flush()
}

// Next serves frames until a DoH request is whole and returns it. Requests
// HTTP itself refuses (method, path, media type, size) are answered here;
// protocol errors end the connection with GOAWAY, or a stream with
// RST_STREAM. Replies framed meanwhile are written before it waits.
func (h *H2) Next() (*DoHRequest, error) {
	for {
		if !h.frameBuffered() {
			if err := h.flush(); err != nil {
				return nil, err
			}
		}
		h.awaitFrame()
		if h.ending() {
			h.goAway(http2.ErrCodeNo)
			return nil, errStopping
		}
		var f http2.Frame
		fh, err := h.fr.ReadFrameHeader()
		if err == nil {
			if fh.Type == http2.FrameHeaders || fh.Type == http2.FrameContinuation {
				err = h.readHeaderFrame(fh)
			} else {
				f, err = h.fr.ReadFrameForHeader(fh)
			}
		}
		h.readingFrame()
		if err != nil {
			var se http2.StreamError
			switch {
			case errors.As(err, &se):
				h.resetStream(se.StreamID, se.Code)
				continue
			case errors.Is(err, http2.ErrFrameTooLarge):
				h.goAway(http2.ErrCodeFrameSize)
				return nil, err
			}
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				h.goAway(http2.ErrCode(ce))
				return nil, err
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// Stopping, idle, or a request's rest late (no reply is owed,
				// or there would be no deadline): say so before closing.
				h.goAway(http2.ErrCodeNo)
				if h.ending() {
					return nil, errStopping
				}
			}
			return nil, err
		}
		if !h.greeted {
			if _, ok := f.(*http2.SettingsFrame); !ok {
				h.goAway(http2.ErrCodeProtocol) // §3.4: the preface ends with SETTINGS
				return nil, errH2GoneAway
			}
			h.greeted = true
		}
		var req *DoHRequest
		var code http2.ErrCode
		switch {
		case f != nil:
			req, code = h.onFrame(f)
		case h.hb.ended:
			req, code = h.onHeaders(&h.hb)
		}
		if code != http2.ErrCodeNo {
			h.goAway(code)
			return nil, errH2GoneAway
		}
		if req != nil {
			return req, nil
		}
	}
}

// onFrame handles one frame; a request is returned once whole, a code other
// than NO_ERROR is a connection error.
func (h *H2) onFrame(f http2.Frame) (*DoHRequest, http2.ErrCode) {
	switch f := f.(type) {
	case *http2.DataFrame:
		return h.onData(f)
	case *http2.SettingsFrame:
		return nil, h.onSettings(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			h.mu.Lock()
			_ = h.wfr.WritePing(true, f.Data)
			h.mu.Unlock()
		}
	case *http2.WindowUpdateFrame:
		return nil, h.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		h.onReset(f.StreamID)
	case *http2.PushPromiseFrame:
		return nil, http2.ErrCodeProtocol // clients never push (§8.4)
	}
	// PRIORITY, GOAWAY (the client opens nothing more; what it asked is
	// still answered) and unknown frame types need nothing.
	return nil, http2.ErrCodeNo
}

// onHeaders opens a stream with a whole header block, or ends one with
// trailers.
func (h *H2) onHeaders(f *headerBlock) (*DoHRequest, http2.ErrCode) {
	id := f.stream
	if f.malformed {
		h.resetStream(id, http2.ErrCodeProtocol)
		return nil, http2.ErrCodeNo
	}
	if id <= h.lastID {
		h.mu.Lock()
		st := h.streams[id]
		h.mu.Unlock()
		switch {
		case st == nil:
			// Never opened, or closed: a stream is opened once (§5.1.1).
			return nil, http2.ErrCodeProtocol
		case st.reset:
			// Reset by us: what was on its way is dropped (§5.4.2).
		case st.owed:
			h.rst(id, http2.ErrCodeStreamClosed)
		case !f.endStream:
			h.rst(id, http2.ErrCodeProtocol) // trailers end the stream
		default:
			return h.complete(st), http2.ErrCodeNo
		}
		return nil, http2.ErrCodeNo
	}
	if id%2 == 0 {
		return nil, http2.ErrCodeProtocol // client streams are odd
	}
	h.lastID = id
	if h.Open() >= h2MaxStreams {
		h.rst(id, http2.ErrCodeRefusedStream)
		return nil, http2.ErrCodeNo
	}
	st := h.newStream(id)
	h.register(st)
	if f.truncated {
		h.refuse(st, refuseHeadersTooLong, !f.endStream)
		return nil, http2.ErrCodeNo
	}
	st.forwarded, st.xff = f.forwarded, append(st.xff[:0], f.xff...)
	var refused *DoHRefusal
	st.body, st.post, refused = DoHMessage(st.body[:0], f.method, f.path, f.ctype)
	if refused != nil {
		h.refuse(st, refused, !f.endStream)
		return nil, http2.ErrCodeNo
	}
	if !f.endStream {
		return nil, http2.ErrCodeNo // the body (or trailers) follow
	}
	return h.complete(st), http2.ErrCodeNo
}

// onData reads a POST's body.
func (h *H2) onData(f *http2.DataFrame) (*DoHRequest, http2.ErrCode) {
	if f.StreamID > h.lastID {
		return nil, http2.ErrCodeProtocol // DATA on an idle stream (§5.1)
	}
	n := int32(f.Length) // padding included: it counts against the windows
	if h.recvLeft -= n; h.recvLeft < 0 {
		return nil, http2.ErrCodeFlowControl
	}
	h.giveBack(uint32(n))
	h.mu.Lock()
	st := h.streams[f.StreamID]
	h.mu.Unlock()
	switch {
	case st == nil || st.reset:
		return nil, http2.ErrCodeNo // closed or reset by us: dropped
	case st.owed:
		h.rst(f.StreamID, http2.ErrCodeStreamClosed)
		return nil, http2.ErrCodeNo
	}
	if st.received += int(n); st.received > h2StreamWindow {
		h.rst(f.StreamID, http2.ErrCodeFlowControl)
		return nil, http2.ErrCodeNo
	}
	data := f.Data()
	switch {
	case !st.post:
		// A GET's body means nothing.
	case len(st.body)+len(data) > maxMessage:
		h.refuse(st, RefuseTooLong, !f.StreamEnded())
		return nil, http2.ErrCodeNo
	case f.StreamEnded() && len(st.body) == 0:
		// The usual case, the whole message in one frame: handed over
		// without a copy, as it is read before the next frame.
		keep := st.body
		st.body = data
		req := h.complete(st)
		st.body = keep
		return req, http2.ErrCodeNo
	default:
		st.body = append(st.body, data...)
	}
	if !f.StreamEnded() {
		return nil, http2.ErrCodeNo
	}
	return h.complete(st), http2.ErrCodeNo
}

// giveBack returns read DATA to the client's connection window in steps,
// not a WINDOW_UPDATE per frame.
func (h *H2) giveBack(n uint32) {
	if h.recvOwed += n; h.recvOwed < h2ConnWindow/4 {
		return
	}
	h.mu.Lock()
	_ = h.wfr.WriteWindowUpdate(0, h.recvOwed)
	h.mu.Unlock()
	h.recvLeft += int32(h.recvOwed)
	h.recvOwed = 0
}

// complete hands a whole request over: its reply is owed from now.
func (h *H2) complete(st *stream) *DoHRequest {
	if len(st.body) < 12 {
		h.refuse(st, RefuseNotDNS, false)
		return nil
	}
	h.mu.Lock()
	h.markOwed(st)
	h.mu.Unlock()
	h.req = DoHRequest{Stream: st.id, Msg: st.body, Forwarded: st.forwarded, XForwardedFor: st.xff}
	return &h.req
}

func (h *H2) onSettings(f *http2.SettingsFrame) http2.ErrCode {
	if f.IsAck() {
		return http2.ErrCodeNo
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	code := http2.ErrCodeNo
	_ = f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			code = http2.ErrCodeProtocol
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				code = http2.ErrCode(ce)
			}
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			// §6.9.2: every open stream's window moves by the difference;
			// one pushed past 2^31-1 is a connection error.
			delta := int64(s.Val) - int64(h.initWindow)
			h.initWindow = int32(s.Val)
			for _, st := range h.streams {
				w := int64(st.window) + delta
				if w > 1<<31-1 {
					code = http2.ErrCodeFlowControl
					return errH2GoneAway
				}
				st.window = int32(w)
			}
		case http2.SettingMaxFrameSize:
			h.maxFrame = s.Val
		case http2.SettingHeaderTableSize:
			h.enc.SetMaxDynamicTableSizeLimit(s.Val)
		}
		return nil
	})
	if code != http2.ErrCodeNo {
		return code
	}
	_ = h.wfr.WriteSettingsAck()
	h.unblock()
	return http2.ErrCodeNo
}

func (h *H2) onWindowUpdate(f *http2.WindowUpdateFrame) http2.ErrCode {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.StreamID == 0 {
		if h.sendLeft += int64(f.Increment); h.sendLeft > 1<<31-1 {
			return http2.ErrCodeFlowControl
		}
	} else if st := h.streams[f.StreamID]; st != nil {
		if w := int64(st.window) + int64(f.Increment); w > 1<<31-1 {
			h.rstLocked(f.StreamID, http2.ErrCodeFlowControl)
		} else {
			st.window = int32(w)
		}
	}
	h.unblock()
	return http2.ErrCodeNo
}

// onReset closes a stream the client gave up on; a reply still to come
// is dropped when it comes.
func (h *H2) onReset(id uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.streams[id]; st != nil {
		h.closeStream(st)
	}
}

// closeStream ends a stream for a reset; h.mu is held. One whose reply is
// still to come stays, marked, until Reply drops it.
func (h *H2) closeStream(st *stream) {
	if st.owed && !st.replied {
		st.reset = true
		return
	}
	h.forget(st)
}

// Reply answers a request's stream with the DNS message resp, max-age
// maxAge (RFC 8484 §5.1). fromReader: the reader's own answer, written
// when it next waits; otherwise written now. resp is copied.
func (h *H2) Reply(id uint32, resp []byte, maxAge uint32, fromReader bool) error {
	h.mu.Lock()
	st := h.streams[id]
	switch {
	case h.broken:
		h.mu.Unlock()
		return errClosed
	case st == nil || !st.owed:
		h.mu.Unlock()
		return errClosed
	case st.reset:
		h.forget(st)
		h.mu.Unlock()
		return errStreamReset
	}
	h.writeResponse(st, "200", DoHContentType, resp, int64(maxAge))
	big := len(h.out) >= h2WriteBatch
	h.mu.Unlock()
	if fromReader && !big {
		return nil
	}
	return h.flush()
}

var errStreamReset = errors.New("the client reset the stream")

// refuseHeadersTooLong is HTTP/2's own refusal (net/http answers HTTP/1.1's).
var refuseHeadersTooLong = &DoHRefusal{431, "the request's headers are too long"}

// Refuse answers a request handed over with an HTTP error instead of a DNS
// message; the reader's, written when it waits.
func (h *H2) Refuse(id uint32, r *DoHRefusal) {
	h.mu.Lock()
	st := h.streams[id]
	if st != nil && st.reset {
		h.forget(st)
		st = nil
	}
	h.mu.Unlock()
	if st != nil && st.owed && !st.replied {
		h.refuse(st, r, false)
	}
}

// writeResponse frames a response's HEADERS, and its DATA as far as the
// windows let it; h.mu is held.
func (h *H2) writeResponse(st *stream, status, ctype string, body []byte, maxAge int64) {
	h.hbuf.Reset()
	_ = h.enc.WriteField(hpack.HeaderField{Name: ":status", Value: status})
	_ = h.enc.WriteField(hpack.HeaderField{Name: "content-type", Value: ctype})
	var digits [20]byte
	appendLiteral(&h.hbuf, hpackContentLength, "", strconv.AppendInt(digits[:0], int64(len(body)), 10))
	if maxAge >= 0 {
		appendLiteral(&h.hbuf, hpackCacheControl, "max-age=", strconv.AppendInt(digits[:0], maxAge, 10))
	}
	if status == "405" {
		_ = h.enc.WriteField(hpack.HeaderField{Name: "allow", Value: "GET, POST"})
	}
	_ = h.wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: h.hbuf.Bytes(), EndHeaders: true})
	h.markOwed(st)
	st.replied = true
	if len(h.blocked) > 0 {
		st.blocked = append(st.blocked[:0], body...) // behind the others
	} else if h.sendData(st, body) {
		return
	}
	h.blocked = append(h.blocked, st.id)
}

// sendData frames what the windows allow of body, ending the stream with
// its last octet; it reports whether all of it went. h.mu is held.
func (h *H2) sendData(st *stream, body []byte) bool {
	for {
		n := min(len(body), int(h.maxFrame), int(st.window), int(min(h.sendLeft, 1<<31-1)))
		if n <= 0 && len(body) > 0 {
			st.blocked = append(st.blocked[:0], body...)
			return false
		}
		last := n == len(body)
		_ = h.wfr.WriteData(st.id, last, body[:n])
		st.window -= int32(n)
		h.sendLeft -= int64(n)
		body = body[n:]
		if last {
			h.forget(st)
			return true
		}
	}
}

// unblock sends waiting DATA, oldest first, as the windows open; h.mu is
// held.
func (h *H2) unblock() {
	for len(h.blocked) > 0 {
		if st := h.streams[h.blocked[0]]; st != nil && len(st.blocked) > 0 {
			body := st.blocked
			st.blocked = nil
			if !h.sendData(st, body) {
				return
			}
		}
		h.blocked = h.blocked[1:]
	}
}

// refuse answers a stream with an HTTP error; a client still sending its
// body is told to stop (§8.1: a response may come before the request
// ends), and the error text is dropped if no window is open for it.
func (h *H2) refuse(st *stream, r *DoHRefusal, stillSending bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.writeResponse(st, strconv.Itoa(r.Status), "text/plain; charset=utf-8", []byte(r.Why+"\n"), -1)
	if stillSending {
		if h.streams[st.id] == st {
			h.forget(st) // with the text, when it waits for a window
		}
		_ = h.wfr.WriteRSTStream(st.id, http2.ErrCodeNo)
	}
}

// newStream is a stream for the reader, reusing a closed one's buffers.
func (h *H2) newStream(id uint32) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.free); n > 0 {
		st := h.free[n-1]
		h.free = h.free[:n-1]
		*st = stream{id: id, window: h.initWindow, body: st.body[:0], xff: st.xff[:0]}
		return st
	}
	return &stream{id: id, window: h.initWindow}
}

func (h *H2) register(st *stream) {
	h.mu.Lock()
	h.streams[st.id] = st
	h.mu.Unlock()
}

// forget closes a stream; h.mu is held. The reader reuses it for a later
// stream, not before its next frame: a request handed over stays valid
// until then.
func (h *H2) forget(st *stream) {
	delete(h.streams, st.id)
	if st.owed {
		h.owed--
	}
	st.blocked = nil
	if len(h.free) < 64 {
		h.free = append(h.free, st)
	}
	if h.awaiting && h.owed == 0 && !h.ending() {
		h.setDeadline() // idle (or waiting for a request's rest) from now
	}
}

// markOwed counts st as owed a reply; h.mu is held.
func (h *H2) markOwed(st *stream) {
	if !st.owed {
		st.owed = true
		h.owed++
	}
}

// setDeadline sets the read deadline for what the connection waits for;
// h.mu is held. Before the client's settings: the preface's, set in
// Start. While a reply is owed: none, the connection is busy. While only
// requests are partly read: the read timeout from now, as for a TCP query
// whose length came (a stream left open without its body holds nothing
// for long). Otherwise idle (RFC 7766 §6.2.3's rule, as over TCP).
func (h *H2) setDeadline() {
	switch {
	case !h.greeted:
	case h.owed > 0:
		_ = h.conn.SetReadDeadline(time.Time{})
	case len(h.streams) > 0:
		_ = h.conn.SetReadDeadline(time.Now().Add(h.readTimeout))
	default:
		_ = h.conn.SetReadDeadline(time.Now().Add(h.idle))
	}
}

// resetStream ends a stream for a stream error.
func (h *H2) resetStream(id uint32, code http2.ErrCode) {
	if id > h.lastID && id%2 == 1 {
		h.lastID = id
	}
	h.rst(id, code)
}

func (h *H2) rst(id uint32, code http2.ErrCode) {
	h.mu.Lock()
	h.rstLocked(id, code)
	h.mu.Unlock()
}

func (h *H2) rstLocked(id uint32, code http2.ErrCode) {
	_ = h.wfr.WriteRSTStream(id, code)
	if st := h.streams[id]; st != nil {
		h.closeStream(st)
	}
}

// goAway tells the client no more streams are read after the last one,
// and why (§6.8); the connection then ends once what is owed is written.
func (h *H2) goAway(code http2.ErrCode) {
	h.mu.Lock()
	_ = h.wfr.WriteGoAway(h.lastID, code, nil)
	h.mu.Unlock()
	_ = h.flush()
}

// Open counts the streams open: requests being read or owed a reply. A
// connection with none is idle.
func (h *H2) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}

// frameBuffered reports whether a whole frame waits in the read buffer: the
// next read will not block, so replies may wait to go out together.
func (h *H2) frameBuffered() bool {
	n := h.br.Buffered()
	if n < 9 {
		return false
	}
	hdr, _ := h.br.Peek(9)
	return n >= 9+(int(hdr[0])<<16|int(hdr[1])<<8|int(hdr[2]))
}

// awaitFrame sets the read deadline for the next frame (forget sets it
// again when the last reply owed goes).
func (h *H2) awaitFrame() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.awaiting = true
	h.setDeadline()
}

func (h *H2) readingFrame() {
	h.mu.Lock()
	h.awaiting = false
	h.mu.Unlock()
}

// flush writes what is framed, in one write within tcp.write_timeout; a
// failure ends the connection.
func (h *H2) flush() error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	if h.broken {
		h.mu.Unlock()
		return errClosed
	}
	buf := h.out
	h.out, h.spare = h.spare[:0], nil
	h.mu.Unlock()
	if len(buf) == 0 {
		h.mu.Lock()
		h.spare = buf
		h.mu.Unlock()
		return nil
	}
	_ = h.conn.SetWriteDeadline(time.Now().Add(h.limits.WriteTimeout))
	_, err := h.conn.Write(buf)
	h.mu.Lock()
	h.spare = buf[:0]
	if err != nil {
		h.broken = true
	}
	h.mu.Unlock()
	if err != nil {
		h.conn.Close()
	}
	return err
}

// Stop ends the reader's wait (the server is stopping, or the connection
// gives its slot to a newer one): it says GOAWAY and returns; replies owed
// are still written.
func (h *H2) Stop() {
	h.stopped.Store(true)
	_ = h.conn.SetReadDeadline(time.Unix(1, 0))
}

// ending: no frame is read any more.
func (h *H2) ending() bool { return h.stopped.Load() || h.stopping() }

// Close ends the connection once the flow owes nothing (Pending): what is
// framed is written, then the write side closed and what the client still
// sends read and dropped for a moment, so that no reply is lost to a
// reset.
func (h *H2) Close() {
	_ = h.flush()
	h.mu.Lock()
	broken := h.broken
	h.broken = true
	h.mu.Unlock()
	if broken {
		return
	}
	if tc, ok := h.conn.(*tls.Conn); ok && tc.CloseWrite() == nil {
		_ = tc.SetReadDeadline(time.Now().Add(drainTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(tc, drainBytes))
	}
	h.conn.Close()
}
