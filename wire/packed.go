package wire

import "encoding/binary"

// An entry can be kept as plain bytes (in an arena the garbage collector
// need not scan): its fields, then its buffer. Packed writes that form and
// Unpacked reads an entry back from it without copying the buffer.

// packedHeader is the length of the fields before the buffer.
const packedHeader = 32

// PackedLen is how many bytes Packed appends for e.
func (e *Entry) PackedLen() int { return packedHeader + len(e.buf) }

// Packed appends e in its byte form to dst.
func (e *Entry) Packed(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, e.wireLen)
	dst = binary.LittleEndian.AppendUint16(dst, e.nameEnd)
	dst = binary.LittleEndian.AppendUint16(dst, e.arStart)
	dst = binary.LittleEndian.AppendUint16(dst, e.qtype)
	dst = binary.LittleEndian.AppendUint16(dst, e.qclass)
	dst = append(dst, byte(e.opts), 0)
	dst = binary.LittleEndian.AppendUint32(dst, e.ttlCap)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.stored))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.expires))
	return append(dst, e.buf...)
}

// Unpacked is the entry b holds (exactly what Packed appended). The entry's
// buffer is b's: b must not change while the entry is in use.
func Unpacked(b []byte) Entry {
	_ = b[packedHeader-1]
	return Entry{
		wireLen: binary.LittleEndian.Uint16(b),
		nameEnd: binary.LittleEndian.Uint16(b[2:]),
		arStart: binary.LittleEndian.Uint16(b[4:]),
		qtype:   binary.LittleEndian.Uint16(b[6:]),
		qclass:  binary.LittleEndian.Uint16(b[8:]),
		opts:    Opts(b[10]),
		ttlCap:  binary.LittleEndian.Uint32(b[12:]),
		stored:  int64(binary.LittleEndian.Uint64(b[16:])),
		expires: int64(binary.LittleEndian.Uint64(b[24:])),
		buf:     b[packedHeader:len(b):len(b)],
	}
}

// PackedFreshFor is FreshFor read straight from the byte form, before
// anything is unpacked: most lookups that find a key end here.
func PackedFreshFor(b []byte, lname []byte, qtype, qclass uint16, o Opts, now int64) bool {
	return now < int64(binary.LittleEndian.Uint64(b[24:])) && PackedMatches(b, lname, qtype, qclass, o)
}

// PackedMatches is Matches read straight from the byte form.
func PackedMatches(b []byte, lname []byte, qtype, qclass uint16, o Opts) bool {
	nameEnd := int(binary.LittleEndian.Uint16(b[2:]))
	return binary.LittleEndian.Uint16(b[6:]) == qtype && binary.LittleEndian.Uint16(b[8:]) == qclass &&
		Opts(b[10]) == o && string(b[packedHeader+headerLen:packedHeader+nameEnd]) == string(lname)
}

// PackedExpires is Expires read from the byte form.
func PackedExpires(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b[24:])) }
