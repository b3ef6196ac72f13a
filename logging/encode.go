package logging

import (
	"encoding/json"
	"fmt"
	"github.com/o11y-go/o11y/internal/redact"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// bufPool holds line buffers. Buffers that grew past maxPooledBuf are dropped
// so one huge line does not pin memory.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// needComma reports whether the next member needs a separating comma: every
// member but the first of an object does, and the first follows '{'. An
// empty buffer is a fragment (static fields, WithAttrs) spliced in after a
// member, so it needs one too.
func needComma(buf []byte) bool { return len(buf) == 0 || buf[len(buf)-1] != '{' }

// appendKey appends ["," ] "key": with the key bounded to maxKeyBytes.
func appendKey(buf []byte, key string) []byte {
	if needComma(buf) {
		buf = append(buf, ',')
	}
	buf = appendStr(buf, key, maxKeyBytes)
	return append(buf, ':')
}

// appendStr appends s as a JSON string whose encoded form (quotes and escapes
// included) is at most limit bytes; a longer s is cut on a rune boundary and
// ends with TruncatedMarker.
func appendStr(buf []byte, s string, limit int) []byte {
	return jsonenc.AppendStringBounded(buf, s, limit, TruncatedMarker)
}

// appendTimeMillis appends t as a quoted RFC 3339 UTC time with milliseconds,
// e.g. "2026-11-25T17:40:05.123Z". Hand-written: faster than AppendFormat.
func appendTimeMillis(buf []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		buf = append(buf, '"')
		buf = t.AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		return append(buf, '"')
	}
	hh, mm, ss := t.Clock()
	ms := t.Nanosecond() / 1e6
	buf = append(buf, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':',
		byte('0'+mm/10), byte('0'+mm%10), ':',
		byte('0'+ss/10), byte('0'+ss%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return buf
}

// appendAttr appends one attribute following the slog rules: LogValuers
// resolved, empty attrs and empty groups dropped, empty-key groups inlined.
// Redacted keys are replaced before their value is resolved, so a LogValuer
// under a secret key is never called.
func (c *config) appendAttr(buf []byte, a slog.Attr, depth int) []byte {
	if a.Key != "" && c.redact.match(a.Key) {
		buf = appendKey(buf, a.Key)
		return append(buf, `"`+Redacted+`"`...)
	}
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		attrs := v.Group()
		if len(attrs) == 0 {
			return buf
		}
		if depth >= maxDepth {
			buf = appendKey(buf, a.Key)
			return append(buf, `"`+TruncatedMarker+`"`...)
		}
		if a.Key == "" {
			for _, ga := range attrs {
				buf = c.appendAttr(buf, ga, depth+1)
			}
			return buf
		}
		mark := len(buf)
		buf = appendKey(buf, a.Key)
		buf = append(buf, '{')
		open := len(buf)
		for _, ga := range attrs {
			buf = c.appendAttr(buf, ga, depth+1)
		}
		if len(buf) == open { // every member was empty: drop the group
			return buf[:mark]
		}
		return append(buf, '}')
	}
	if a.Key == "" && v.Kind() == slog.KindAny && v.Any() == nil {
		return buf // the zero Attr
	}
	buf = appendKey(buf, a.Key)
	if v.Kind() == slog.KindAny && c.redact != nil {
		return appendAny(buf, c.redact.any(v.Any(), depth))
	}
	return appendValue(buf, v)
}

func appendValue(buf []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendStr(buf, v.String(), MaxValueBytes)
	case slog.KindInt64:
		return strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindFloat64:
		return jsonenc.AppendFloat(buf, v.Float64()) // NaN, ±Inf → null
	case slog.KindBool:
		return strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(buf, int64(v.Duration()), 10) // nanoseconds, as slog.JSONHandler
	case slog.KindTime:
		buf = append(buf, '"')
		buf = v.Time().AppendFormat(buf, time.RFC3339Nano)
		return append(buf, '"')
	default:
		return appendAny(buf, v.Any())
	}
}

// appendAny encodes an arbitrary value: errors as their message, everything
// else through encoding/json (this path allocates; scalars never reach it).
// A panicking Error or MarshalJSON is rendered, never propagated.
func appendAny(buf []byte, x any) (out []byte) {
	mark := len(buf)
	defer func() {
		if r := recover(); r != nil {
			out = appendStr(buf[:mark], fmt.Sprintf("!PANIC: %v", r), MaxValueBytes)
		}
	}()
	switch x := x.(type) {
	case nil:
		return append(buf, "null"...)
	case error:
		return appendStr(buf, redact.Error(x), MaxValueBytes) // no URL credentials
	case []byte:
		return appendStr(buf, string(x), MaxValueBytes)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return appendStr(buf, "!ERROR: "+err.Error(), MaxValueBytes)
	}
	if len(b) > MaxValueBytes { // keep the line bounded: show it as a cut string
		return appendStr(buf, string(b), MaxValueBytes)
	}
	return append(buf, b...) // json.Marshal output is compact: no raw newlines
}
