package xrayudp

import (
	"unicode/utf8"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// appendStr appends s as a JSON string, cut to max bytes (with marker) like
// jsonenc.AppendStringTrunc. Most values (methods, hosts, paths, user
// agents) are plain ASCII: their safe prefix is found eight bytes at a time
// and copied in one append; the byte-wise escaper handles the rest.
func appendStr(dst []byte, s string, max int, marker string) []byte {
	if max > 0 && len(s) > max {
		return jsonenc.AppendStringTrunc(dst, s, max, marker)
	}
	i := plainPrefix(s)
	dst = append(dst, '"')
	dst = append(dst, s[:i]...)
	if i < len(s) {
		dst = jsonenc.AppendStringContents(dst, s[i:])
	}
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// appendContents is jsonenc.AppendStringContents with a word-at-a-time scan
// for the leading run of bytes that need no escaping.
func appendContents(dst []byte, s string) []byte {
	i := plainPrefix(s)
	dst = append(dst, s[:i]...)
	if i < len(s) {
		dst = jsonenc.AppendStringContents(dst, s[i:])
	}
	return dst
}

// plainPrefix returns the length of the leading run of s that needs no JSON
// escaping (printable ASCII other than '"' and '\\').
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(le64(s[i:])) {
			goto bytewise
		}
	}
	if i == len(s) || (i >= 8 && plainWord(le64(s[len(s)-8:]))) {
		// All words plain; the rest lies within the (overlapping) last
		// word, which is plain too.
		return len(s)
	}
bytewise:
	for ; i < len(s); i++ {
		if !plainByte[s[i]] {
			break
		}
	}
	return i
}

// le64 loads s[:8] little-endian (one bounds check, one load).
func le64(s string) uint64 {
	s = s[:8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainWord reports whether all eight bytes of x are plain. It is exact: a
// byte needing escape is never missed.
func plainWord(x uint64) bool {
	quote := x ^ (lsb * '"')
	bslash := x ^ (lsb * '\\')
	return (x|(x-lsb*0x20)|(quote-lsb)&^quote|(bslash-lsb)&^bslash)&msb == 0
}

// plainByte[c] is true for bytes plainPrefix lets through.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendMetaKey appends `,"k":` (comma optional) for a metadata or link
// attribute key, or reports false for keys that are skipped: empty, longer
// than 250 bytes or not valid UTF-8 (repairing or cutting them could make
// two keys collide).
func appendMetaKey(dst []byte, k string, comma bool) ([]byte, bool) {
	if k == "" || len(k) > maxStringBytes {
		return dst, false
	}
	n := plainPrefix(k)
	if n < len(k) && !utf8.ValidString(k[n:]) {
		return dst, false
	}
	if comma {
		dst = append(dst, ',', '"')
	} else {
		dst = append(dst, '"')
	}
	dst = append(dst, k[:n]...)
	if n < len(k) {
		dst = jsonenc.AppendStringContents(dst, k[n:])
	}
	return append(dst, '"', ':'), true
}

// appendConstKey appends `,"key":` for a key known to need no escaping (the
// schema's own field names).
func appendConstKey(dst []byte, key string, comma bool) []byte {
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}
