package transport

import (
	"bytes"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is the request header block being read: HEADERS and its
// CONTINUATIONs, decoded as they come into the few fields DoH needs. The
// Framer's own reading (ReadMetaHeaders) allocates a frame, a field list
// and a closure per request; this allocates nothing but the strings HPACK
// decodes from literals (a client's indexed fields cost none).
type headerBlock struct {
	stream     uint32
	endStream  bool
	ended      bool // END_HEADERS came: the block is whole
	left       uint32
	truncated  bool // over h2MaxHeaders: answered 431
	malformed  bool // RFC 9113 §8.1.1: the stream is reset
	sawRegular bool
	pseudo     uint8 // which request pseudo-headers came, for duplicates

	method, path, ctype, forwarded string
	xff                            []string
}

// The request pseudo-headers (RFC 9113 §8.3.1), as bits.
const (
	pseudoMethod = 1 << iota
	pseudoScheme
	pseudoAuthority
	pseudoPath
	pseudoProtocol
)

// readHeaderFrame reads a HEADERS or CONTINUATION frame's payload (the
// Framer has read its header and checked the frames' order) and decodes
// its fragment of the block. An error is the connection's.
func (h *H2) readHeaderFrame(fh http2.FrameHeader) error {
	payload, err := h.br.Peek(int(fh.Length)) // a frame fits the buffer: read in place
	if err != nil {
		return err
	}
	defer func() { _, _ = h.br.Discard(int(fh.Length)) }()
	b := &h.hb
	if fh.Type == http2.FrameHeaders {
		if fh.StreamID == 0 {
			return http2.ConnectionError(http2.ErrCodeProtocol) // §6.2
		}
		pad := 0
		if fh.Flags.Has(http2.FlagHeadersPadded) {
			if len(payload) < 1 {
				return http2.ConnectionError(http2.ErrCodeFrameSize)
			}
			pad, payload = int(payload[0]), payload[1:]
		}
		malformed := false
		if fh.Flags.Has(http2.FlagHeadersPriority) {
			if len(payload) < 5 {
				return http2.ConnectionError(http2.ErrCodeFrameSize)
			}
			// A stream that depends on itself is a stream error (§5.3.1).
			malformed = (uint32(payload[0])<<24|uint32(payload[1])<<16|uint32(payload[2])<<8|uint32(payload[3]))&(1<<31-1) == fh.StreamID
			payload = payload[5:]
		}
		if pad > len(payload) {
			return http2.ConnectionError(http2.ErrCodeProtocol) // §6.2
		}
		payload = payload[:len(payload)-pad]
		xff := b.xff[:0]
		*b = headerBlock{stream: fh.StreamID, endStream: fh.Flags.Has(http2.FlagHeadersEndStream), left: h2MaxHeaders,
			malformed: malformed, xff: xff}
		h.dec.SetEmitEnabled(!malformed)
	}
	// A fragment far over what may still come is not decoded: the client
	// ignored our SETTINGS_MAX_HEADER_LIST_SIZE (the Framer's rule).
	if uint64(len(payload)) > 2*uint64(b.left) {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if _, err := h.dec.Write(payload); err != nil {
		return http2.ConnectionError(http2.ErrCodeCompression)
	}
	if fh.Flags.Has(http2.FlagHeadersEndHeaders) {
		if err := h.dec.Close(); err != nil {
			return http2.ConnectionError(http2.ErrCodeCompression)
		}
		b.ended = true
	}
	return nil
}

// onField takes one decoded header field (the decoder's emit function).
func (h *H2) onField(f hpack.HeaderField) {
	b := &h.hb
	if !httpguts.ValidHeaderFieldValue(f.Value) {
		b.malformed = true
	} else if size := f.Size(); size > b.left {
		b.truncated, b.left = true, 0
	} else {
		b.left -= size
		if strings.HasPrefix(f.Name, ":") {
			b.onPseudo(f)
		} else {
			b.onRegular(f)
		}
	}
	if b.malformed || b.truncated {
		h.dec.SetEmitEnabled(false) // the rest is decoded to keep the tables in step, no more
	}
}

func (b *headerBlock) onPseudo(f hpack.HeaderField) {
	var bit uint8
	switch f.Name {
	case ":method":
		bit, b.method = pseudoMethod, f.Value
	case ":scheme":
		bit = pseudoScheme
	case ":authority":
		bit = pseudoAuthority
	case ":path":
		bit, b.path = pseudoPath, f.Value
	case ":protocol":
		bit = pseudoProtocol
	}
	// Unknown or response pseudo-headers, one twice, or one after a
	// regular field make the request malformed (§8.3).
	if bit == 0 || b.pseudo&bit != 0 || b.sawRegular {
		b.malformed = true
	}
	b.pseudo |= bit
}

func (b *headerBlock) onRegular(f hpack.HeaderField) {
	b.sawRegular = true
	if !validFieldName(f.Name) {
		b.malformed = true
		return
	}
	switch f.Name {
	case "content-type":
		b.ctype = f.Value
	case "forwarded":
		b.forwarded = f.Value
	case "x-forwarded-for":
		b.xff = append(b.xff, f.Value)
	case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
		b.malformed = true // connection-specific: not in HTTP/2 (§8.2.2)
	case "te":
		b.malformed = f.Value != "trailers"
	}
}

// validFieldName: a token, in lower case (§8.2.1).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' || !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return true
}

// HPACK's static table (RFC 7541 Appendix A): the names of the response
// fields whose values change from one reply to the next.
const (
	hpackCacheControl  = 24
	hpackContentLength = 28
)

// appendLiteral writes a field whose value changes with each reply as a
// literal without indexing (RFC 7541 §6.2.2), its name from the static
// table: the encoder would add each new value to both tables (and need it
// as a string, one allocation a reply). The value (prefix, then digits) is
// shorter than 127 octets.
func appendLiteral(buf *bytes.Buffer, nameIndex byte, prefix string, digits []byte) {
	if nameIndex < 15 {
		buf.WriteByte(nameIndex)
	} else {
		buf.WriteByte(15)
		buf.WriteByte(nameIndex - 15)
	}
	buf.WriteByte(byte(len(prefix) + len(digits)))
	buf.WriteString(prefix)
	buf.Write(digits)
}
