package otlpenc

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// Wire types, spelled as bytes so single-byte tags are constants.
const (
	wtVarint  = byte(protowire.VarintType)
	wtFixed64 = byte(protowire.Fixed64Type)
	wtBytes   = byte(protowire.BytesType)
	wtFixed32 = byte(protowire.Fixed32Type)
)

// zeros is the source of placeholder bytes for reserved length prefixes.
var zeros [8]byte

// openLen reserves n bytes for a length prefix and returns the extended
// buffer and the offset where the body starts. Reserving the usual size of
// the prefix avoids a sizing pass; closeLen fixes it up when the guess was
// wrong.
func openLen(b []byte, n int) ([]byte, int) {
	b = append(b, zeros[:n]...)
	return b, len(b)
}

// closeLen writes the minimal varint length of the body b[start:] into the
// n bytes reserved before start, moving the body when the varint needs a
// different number of bytes.
func closeLen(b []byte, start, n int) []byte {
	l := len(b) - start
	if n == 1 && l < 0x80 { // the common case, inlined by hand
		b[start-1] = byte(l)
		return b
	}
	sz := protowire.SizeVarint(uint64(l))
	pos := start - n
	switch {
	case sz < n: // body moves down
		copy(b[pos+sz:], b[start:])
		b = b[:len(b)-(n-sz)]
	case sz > n: // body moves up; rare, guesses are generous
		b = append(b, zeros[:sz-n]...)
		copy(b[pos+sz:], b[start:start+l])
	}
	// b[:pos] has the capacity for sz bytes, so this writes in place.
	_ = protowire.AppendVarint(b[:pos], uint64(l))
	return b
}

// appendVarint is protowire.AppendVarint with the one-byte case inlined:
// most lengths and counts here are under 128.
func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return protowire.AppendVarint(b, v)
}

// sizeVarint is protowire.SizeVarint with the one-byte case inlined.
func sizeVarint(v uint64) int {
	if v < 0x80 {
		return 1
	}
	return protowire.SizeVarint(v)
}

func appendVarintField(b []byte, t byte, v uint64) []byte {
	return appendVarint(append(b, t), v)
}

func appendFixed64Field(b []byte, t byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(append(b, t), v)
}

// appendStringField appends field t holding s, omitted when s is empty
// (proto3 default), with invalid UTF-8 replaced by U+FFFD.
func (e *Encoder) appendStringField(b []byte, t byte, s string) []byte {
	if s == "" {
		return b
	}
	return e.appendString(append(b, t), s)
}

// appendString appends the length and bytes of s, always (for oneof members
// and map keys, whose presence matters). Invalid UTF-8 is replaced with
// U+FFFD so the message still decodes: protobuf string fields must be valid
// UTF-8 and proto.Unmarshal rejects the whole request otherwise.
func (e *Encoder) appendString(b []byte, s string) []byte {
	if validUTF8(s) { // fast path: one scan, then one copy
		b = appendVarint(b, uint64(len(s)))
		return append(b, s...)
	}
	e.invalidUTF8++
	b = protowire.AppendVarint(b, uint64(sanitizedLen(s)))
	return appendSanitized(b, s)
}

// validUTF8 reports whether s is valid UTF-8. Nearly every key and value
// is ASCII, so it checks the whole string for a byte with its high bit set
// and calls utf8.ValidString only when it finds one.
func validUTF8(s string) bool {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if s[i] >= utf8.RuneSelf {
				return utf8.ValidString(s)
			}
		}
		return true
	}
	// A read-only byte view of s, for 8-byte loads; nothing writes to it.
	// The high bits of every byte are OR-ed together, 16 bytes per step,
	// and the last 8 bytes are loaded whole (overlapping what was already
	// read) instead of one by one: no branch per byte, and none per word.
	p := unsafe.Slice(unsafe.StringData(s), n)
	var acc uint64
	i := 0
	for ; i+16 <= n; i += 16 {
		acc |= binary.LittleEndian.Uint64(p[i:i+8]) | binary.LittleEndian.Uint64(p[i+8:i+16])
	}
	if i+8 <= n {
		acc |= binary.LittleEndian.Uint64(p[i : i+8])
	}
	acc |= binary.LittleEndian.Uint64(p[n-8:])
	if acc&0x8080808080808080 == 0 {
		return true
	}
	return utf8.ValidString(s)
}

// sanitizedLen is the length of s after appendSanitized.
func sanitizedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += utf8.RuneLen(utf8.RuneError)
		} else {
			n += size
		}
		i += size
	}
	return n
}

// appendSanitized appends s with each invalid byte replaced by U+FFFD, the
// way a range loop over s decodes it.
func appendSanitized(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = utf8.AppendRune(b, utf8.RuneError)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// unixNano clamps t to a non-negative Unix time in nanoseconds, as the
// upstream exporter does.
func unixNano(t time.Time) uint64 {
	return uint64(max(0, t.UnixNano())) //nolint:gosec // clamped
}

// clampUint32 clamps a dropped count to the uint32 field.
func clampUint32(v int) uint64 {
	if v < 0 {
		return 0
	}
	if int64(v) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint64(v)
}
