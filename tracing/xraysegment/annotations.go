package xraysegment

import (
	"bytes"
	"unicode/utf8"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"go.opentelemetry.io/otel/attribute"
)

// AnnotationsKey is the span attribute (a string slice) naming the attribute
// keys to write as X-Ray annotations for that span. It is never emitted
// itself.
const AnnotationsKey = "aws.xray.annotations"

// appendAnnotations writes scalar attributes whose keys are configured
// (Config.IndexedAttributes) or listed in aws.xray.annotations, with keys
// reduced to [A-Za-z0-9_]; at most 50. It marks them in v.annot so metadata
// skips them.
func (e *Encoder) appendAnnotations(dst []byte, v *view) []byte {
	var listed []string
	if l := v.val(sAnnotations); l.Type() == attribute.STRINGSLICE {
		listed = l.AsStringSlice()
	} else if l.Type() == attribute.STRING {
		listed = []string{l.AsString()}
	}
	if e.indexed == nil && len(listed) == 0 {
		return dst
	}
	v.annot = [maxTracked / 64]uint64{}
	n := 0
	var written [maxAnnotations][2]int32 // key spans in dst, to drop keys that sanitise alike
	for i, kv := range v.attrs {
		if i == maxTracked || n == maxAnnotations {
			break
		}
		if !e.isIndexed(string(kv.Key), listed) || !isScalar(kv.Value) {
			continue
		}
		mark := len(dst)
		if n == 0 {
			dst = append(dst, `,"annotations":{`...)
		} else {
			dst = append(dst, ',')
		}
		keyStart := len(dst)
		var ok bool
		if dst, ok = appendAnnotationKey(dst, string(kv.Key)); !ok || seenKey(dst, written[:n], keyStart) {
			dst = dst[:mark]
			continue
		}
		written[n] = [2]int32{int32(keyStart), int32(len(dst))}
		dst = append(dst, ':')
		switch kv.Value.Type() {
		case attribute.BOOL:
			dst = jsonenc.AppendBool(dst, kv.Value.AsBool())
		case attribute.INT64:
			dst = jsonenc.AppendInt(dst, kv.Value.AsInt64())
		case attribute.FLOAT64:
			dst = jsonenc.AppendFloat(dst, kv.Value.AsFloat64())
		default:
			str := kv.Value.AsString()
			dst = appendStr(dst, str, runeLimit(str, maxAnnotationChars), "")
		}
		v.annot[i/64] |= 1 << (i % 64)
		n++
	}
	if n > 0 {
		dst = append(dst, '}')
	}
	return dst
}

// maxAnnotationChars is X-Ray's limit for annotation string values: its
// segment document reference gives no limit of their own, so the default
// for strings applies, 250 characters (not bytes: a value in Greek or
// Japanese keeps all its 250 characters).
const maxAnnotationChars = 250

// runeLimit returns the byte length of the first n characters of s (each
// invalid byte counts as one), or len(s) when s is shorter.
func runeLimit(s string, n int) int {
	if len(s) <= n {
		return len(s)
	}
	i := 0
	for c := 0; c < n && i < len(s); c++ {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func (e *Encoder) isIndexed(k string, listed []string) bool {
	if k == AnnotationsKey {
		return false
	}
	if e.indexedLens&(1<<min(len(k), 63)) != 0 {
		if _, ok := e.indexed[k]; ok {
			return true
		}
	}
	for _, l := range listed {
		if l == k {
			return true
		}
	}
	return false
}

func isScalar(v attribute.Value) bool {
	switch v.Type() {
	case attribute.BOOL, attribute.INT64, attribute.STRING:
		return true
	case attribute.FLOAT64:
		return jsonenc.IsFinite(v.AsFloat64())
	}
	return false
}

// appendAnnotationKey writes k as a quoted annotation key, every byte outside
// [A-Za-z0-9_] replaced by '_' (one '_' per multi-byte rune), at most 250
// bytes. It reports false for an empty key.
func appendAnnotationKey(dst []byte, k string) ([]byte, bool) {
	if k == "" {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, '"')
	n := 0
	for i := 0; i < len(k) && n < maxStringBytes; i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			dst = append(dst, c)
		case c >= 0x80 && c < 0xC0: // UTF-8 continuation byte: already replaced
			continue
		default:
			dst = append(dst, '_')
		}
		n++
	}
	if n == 0 {
		return dst[:start], false
	}
	return append(dst, '"'), true
}

// seenKey reports whether dst[start:] repeats one of the keys already written.
func seenKey(dst []byte, written [][2]int32, start int) bool {
	k := dst[start:]
	for _, w := range written {
		if bytes.Equal(dst[w[0]:w[1]], k) {
			return true
		}
	}
	return false
}
