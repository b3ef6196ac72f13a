// Package xrayid converts between OpenTelemetry trace and span ids and their
// X-Ray text forms ("1-5759e988-bd862e3fe1be46a994272793" and 16 hex digits).
// The same X-Ray form is written into segments, log lines and EMF exemplars so
// one search finds all three.
package xrayid

import (
	"go.opentelemetry.io/otel/trace"
)

const hexDigits = "0123456789abcdef"

// TraceIDLen is the length of an X-Ray trace id: "1-" + 8 hex + "-" + 24 hex.
const TraceIDLen = 35

// AppendTraceID appends the X-Ray form of id to dst.
func AppendTraceID(dst []byte, id trace.TraceID) []byte {
	dst = append(dst, '1', '-')
	for i := 0; i < 4; i++ {
		dst = append(dst, hexDigits[id[i]>>4], hexDigits[id[i]&0xF])
	}
	dst = append(dst, '-')
	for i := 4; i < 16; i++ {
		dst = append(dst, hexDigits[id[i]>>4], hexDigits[id[i]&0xF])
	}
	return dst
}

// FormatTraceID returns the X-Ray form of id.
func FormatTraceID(id trace.TraceID) string {
	var buf [TraceIDLen]byte
	return string(AppendTraceID(buf[:0], id))
}

// AppendSpanID appends id as 16 lowercase hex digits.
func AppendSpanID(dst []byte, id trace.SpanID) []byte {
	for i := 0; i < 8; i++ {
		dst = append(dst, hexDigits[id[i]>>4], hexDigits[id[i]&0xF])
	}
	return dst
}

// AppendW3CTraceID appends id as 32 lowercase hex digits.
func AppendW3CTraceID(dst []byte, id trace.TraceID) []byte {
	for i := 0; i < 16; i++ {
		dst = append(dst, hexDigits[id[i]>>4], hexDigits[id[i]&0xF])
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// ParseTraceID parses an X-Ray trace id ("1-" + 8 hex + "-" + 24 hex). Hex
// digits of either case are accepted. The all-zero id is rejected.
func ParseTraceID(s string) (trace.TraceID, bool) {
	var id trace.TraceID
	if len(s) != TraceIDLen || s[0] != '1' || s[1] != '-' || s[10] != '-' {
		return id, false
	}
	if !decodeHex(id[:4], s[2:10]) || !decodeHex(id[4:], s[11:]) {
		return trace.TraceID{}, false
	}
	return id, id.IsValid()
}

// ParseSpanID parses 16 hex digits of either case. The all-zero id is rejected.
func ParseSpanID(s string) (trace.SpanID, bool) {
	var id trace.SpanID
	if !decodeHex(id[:], s) {
		return trace.SpanID{}, false
	}
	return id, id.IsValid()
}
