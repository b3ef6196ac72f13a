package xraysegment

import (
	"unicode/utf8"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// appendStr appends s as a JSON string, cut to max bytes (with marker):
// jsonenc.AppendStringTrunc, whose escaper copies the plain prefix of a value
// eight bytes at a time.
func appendStr(dst []byte, s string, max int, marker string) []byte {
	return jsonenc.AppendStringTrunc(dst, s, max, marker)
}

// appendContents is jsonenc.AppendStringContents.
func appendContents(dst []byte, s string) []byte {
	return jsonenc.AppendStringContents(dst, s)
}

// appendMetaKey appends `,"k":` (comma optional) for a metadata or link
// attribute key, or reports false for keys that are skipped: empty, longer
// than 250 bytes or not valid UTF-8 (repairing or cutting them could make
// two keys collide).
func appendMetaKey(dst []byte, k string, comma bool) ([]byte, bool) {
	if k == "" || len(k) > maxStringBytes {
		return dst, false
	}
	n := jsonenc.PlainPrefix(k)
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
