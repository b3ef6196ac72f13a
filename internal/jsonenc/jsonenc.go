// Package jsonenc holds the append-style JSON helpers shared by the segment,
// EMF and log encoders. Nothing here allocates beyond growing dst.
//
// Every function appends to dst and returns the extended slice, in the style of
// strconv.Append*. Output is always valid JSON: invalid UTF-8 becomes U+FFFD,
// control characters are escaped, and non-finite floats are the caller's
// responsibility (see AppendFloat).
package jsonenc

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safe[b] is true for ASCII bytes that can be copied into a JSON string as-is.
var safe = func() (t [utf8.RuneSelf]bool) {
	for i := 0x20; i < utf8.RuneSelf; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// AppendString appends s as a quoted JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendStringContents(dst, s)
	return append(dst, '"')
}

// AppendStringContents appends s escaped for use inside a JSON string, without
// quotes. The leading run that needs no escaping (most values: methods, hosts,
// paths, user agents, messages) is found eight bytes at a time and copied in
// one append; the byte-wise escaper handles the rest.
func AppendStringContents(dst []byte, s string) []byte {
	i := PlainPrefix(s)
	if i == len(s) {
		return append(dst, s...)
	}
	start := 0
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript line parsing;
		// escape them so log viewers never split a line.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// PlainPrefix returns the length of the leading run of s that needs no JSON
// escaping (printable ASCII other than '"' and '\\'), scanning eight bytes
// at a time.
func PlainPrefix(s string) int {
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
		if b := s[i]; b >= utf8.RuneSelf || !safe[b] {
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

// plainWord reports whether all eight bytes of x need no escaping. It is
// exact: a byte needing escape is never missed.
func plainWord(x uint64) bool {
	quote := x ^ (lsb * '"')
	bslash := x ^ (lsb * '\\')
	return (x|(x-lsb*0x20)|(quote-lsb)&^quote|(bslash-lsb)&^bslash)&msb == 0
}

// EscapedLen reports how many bytes [AppendStringContents] writes for the
// rune starting at s[i], and that rune's size in s.
func EscapedLen(s string, i int) (out, size int) {
	b := s[i]
	if b < utf8.RuneSelf {
		switch {
		case safe[b]:
			return 1, 1
		case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t':
			return 2, 1
		}
		return 6, 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
		return 6, size
	}
	return size, size
}

// AppendStringBounded appends s as a JSON string whose encoded form (quotes
// and escapes included) is at most limit bytes: a longer s is cut on a rune
// boundary and ends with marker, which is appended as is (it must need no
// escaping). limit must leave room for the quotes and marker.
func AppendStringBounded(dst []byte, s string, limit int, marker string) []byte {
	if len(s)*6+2 <= limit { // worst-case expansion of every byte is 6
		return AppendString(dst, s)
	}
	budget := limit - 2 - len(marker) // room for the cut prefix
	total, cut := 0, -1
	for i := 0; i < len(s); {
		o, n := EscapedLen(s, i)
		if cut < 0 && total+o > budget {
			cut = i
		}
		total += o
		if total+2 > limit {
			break
		}
		i += n
	}
	if total+2 <= limit {
		return AppendString(dst, s)
	}
	if cut < 0 {
		cut = 0
	}
	dst = append(dst, '"')
	dst = AppendStringContents(dst, s[:cut])
	dst = append(dst, marker...)
	return append(dst, '"')
}

// TruncateUTF8 returns s cut to at most n (>= 0) bytes without splitting a
// UTF-8 sequence.
func TruncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// AppendStringTrunc appends s as a quoted JSON string, cutting the *input* to at
// most max bytes on a rune boundary and appending marker when it was cut.
// max <= 0 means no limit.
func AppendStringTrunc(dst []byte, s string, max int, marker string) []byte {
	if max <= 0 || len(s) <= max {
		return AppendString(dst, s)
	}
	dst = append(dst, '"')
	dst = AppendStringContents(dst, TruncateUTF8(s, max))
	dst = AppendStringContents(dst, marker)
	return append(dst, '"')
}

// AppendKey appends "key": (with a leading comma when comma is true).
func AppendKey(dst []byte, key string, comma bool) []byte {
	if comma {
		dst = append(dst, ',')
	}
	dst = AppendString(dst, key)
	return append(dst, ':')
}

// AppendFloat appends f as a JSON number. NaN and ±Inf are not representable in
// JSON; they are written as null so the document stays valid. Callers that must
// drop and report them should check IsFinite first.
func AppendFloat(dst []byte, f float64) []byte {
	if !IsFinite(f) {
		return append(dst, "null"...)
	}
	// Same shape choice as encoding/json: plain notation for ordinary
	// magnitudes, exponent form for very small or very large ones.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// IsFinite reports whether f is neither NaN nor ±Inf.
func IsFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// AppendInt appends i in decimal.
func AppendInt(dst []byte, i int64) []byte { return strconv.AppendInt(dst, i, 10) }

// AppendUint appends u in decimal.
func AppendUint(dst []byte, u uint64) []byte { return strconv.AppendUint(dst, u, 10) }

// AppendBool appends true or false.
func AppendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

// AppendEpochSeconds appends a Unix time given in nanoseconds as epoch seconds
// with microsecond precision (e.g. 1480615200.010000), the form X-Ray uses for
// start_time and end_time. A float64 holds microseconds exactly for current
// epochs; formatting from integers avoids rounding noise.
func AppendEpochSeconds(dst []byte, unixNano int64) []byte {
	if unixNano < 0 {
		unixNano = 0
	}
	sec := uint64(unixNano) / 1e9
	micro := uint32(uint64(unixNano) % 1e9 / 1e3)
	if sec < 1e9 || sec >= 1e10 {
		// Not ten digits (before 2001-09-09): the general form.
		dst = strconv.AppendUint(dst, sec, 10)
		dst = append(dst, '.', '0', '0', '0', '0', '0', '0')
		put6(dst[len(dst)-6:], micro)
		return dst
	}
	// Ten-digit seconds, the only case in practice: fixed width.
	n := len(dst)
	dst = append(dst, "0000000000.000000"...)
	PutEpochSeconds(dst[n:], uint64(unixNano))
	return dst
}

// EpochSecondsLen is the length of what [PutEpochSeconds] writes.
const EpochSecondsLen = len("0000000000.000000")

// PutEpochSeconds writes unixNano, whose seconds have ten digits (from
// 2001-09-09 to 2286-11-20; callers check), as AppendEpochSeconds does into
// b[0:EpochSecondsLen], two digits at a time. b[10] must already hold the
// '.'; it is left alone, so a caller can fill a template in place.
func PutEpochSeconds(b []byte, unixNano uint64) {
	b = b[:EpochSecondsLen:EpochSecondsLen]
	sec, micro := unixNano/1e9, uint32(unixNano%1e9/1e3)
	lo := uint32(sec % 1e8)
	put2(b[0:2], uint32(sec/1e8))
	put2(b[2:4], lo/1e6)
	put2(b[4:6], lo/1e4%100)
	put2(b[6:8], lo/100%100)
	put2(b[8:10], lo%100)
	put2(b[11:13], micro/1e4)
	put2(b[13:15], micro/100%100)
	put2(b[15:17], micro%100)
}

// AppendSmallInt appends n in decimal, as AppendInt does; values from 0 to
// 9999 (statuses, ports, sizes, counts) are written from a table of digit
// pairs without calling strconv.
func AppendSmallInt(dst []byte, n int64) []byte {
	if n >= 0 && n < 10000 {
		switch {
		case n < 10:
			return append(dst, byte('0'+n))
		case n < 100:
			return append(dst, digitPairs[2*n], digitPairs[2*n+1])
		case n < 1000:
			return append(dst, byte('0'+n/100), digitPairs[2*(n%100)], digitPairs[2*(n%100)+1])
		}
		hi, lo := n/100, n%100
		return append(dst, digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*lo], digitPairs[2*lo+1])
	}
	return AppendInt(dst, n)
}

// digitPairs holds "00" through "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// put2 writes v (< 100) as two digits into b[0:2].
func put2(b []byte, v uint32) {
	_ = b[1]
	b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
}

// put6 writes v (< 1e6) as six digits into b[0:6].
func put6(b []byte, v uint32) {
	_ = b[5]
	put2(b[0:2], v/1e4)
	put2(b[2:4], v/100%100)
	put2(b[4:6], v%100)
}

// AppendHex appends b as lowercase hex.
func AppendHex(dst []byte, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return dst
}
