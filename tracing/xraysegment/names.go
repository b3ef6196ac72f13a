package xraysegment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// X-Ray names allow Unicode letters, digits, whitespace and _ . : / % & # = + \ - @.
var nameASCII = func() (t [utf8.RuneSelf]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range `_.:/%&#=+\-@ ` {
		t[c] = true
	}
	return t
}()

// appendNameContents appends the sanitised form of s (at most left bytes of
// output, escaped for a JSON string) and returns the bytes left.
func appendNameContents(dst []byte, s string, left int) ([]byte, int) {
	for i := 0; i < len(s) && left > 0; {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case nameASCII[c]:
				if c == '\\' {
					dst = append(dst, '\\', '\\')
				} else {
					dst = append(dst, c)
				}
				left--
			case c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
				dst = append(dst, ' ')
				left--
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			continue
		}
		switch {
		case unicode.IsSpace(r): // includes U+2028/2029, which must not reach a log line raw
			dst = append(dst, ' ')
			left--
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if size > left {
				return dst, 0
			}
			dst = append(dst, s[i-size:i]...)
			left -= size
		}
	}
	return dst, left
}

// appendName appends s as a quoted, sanitised X-Ray name (≤ 200 bytes). If
// nothing of s survives, fallback is used (written unsanitised: callers pass
// constants).
func appendName(dst []byte, s, fallback string) []byte {
	start := len(dst)
	dst = append(dst, '"')
	dst, left := appendNameContents(dst, s, maxNameBytes)
	if left == maxNameBytes {
		dst = append(dst[:start+1], fallback...)
	}
	return append(dst, '"')
}

// tryName appends the quoted sanitised join of parts and reports whether it
// is non-empty; on false dst is unchanged.
func tryName(dst []byte, a, sep, b string) ([]byte, bool) {
	if a == "" {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, '"')
	dst, left := appendNameContents(dst, a, maxNameBytes)
	if left == maxNameBytes {
		return dst[:start], false
	}
	if b != "" {
		dst, left = appendNameContents(dst, sep, left)
		dst, _ = appendNameContents(dst, b, left)
	}
	return append(dst, '"'), true
}

func (e *Encoder) appendSegmentName(dst []byte, s sdktrace.ReadOnlySpan, v *view, ri *resInfo, parent trace.SpanContext, localRoot bool) []byte {
	if e.cfg.SegmentName != "" && ri.segName != nil {
		return append(dst, ri.segName...)
	}
	localRoot = localRoot || v.kind == trace.SpanKindServer || !parent.IsValid() || parent.IsRemote() ||
		v.str(sAWSSpanKind) == "LOCAL_ROOT"
	if localRoot {
		if d, ok := tryName(dst, v.str(sAWSLocalSvc), "", ""); ok {
			return d
		}
		if ri.segName != nil {
			return append(dst, ri.segName...)
		}
	}
	return appendName(dst, s.Name(), "span")
}

func appendSubsegmentName(dst []byte, s sdktrace.ReadOnlySpan, v *view, kind trace.SpanKind, awsAPI bool) []byte {
	var ok bool
	if dst, ok = tryName(dst, v.str(sPeerService), "", ""); ok {
		return dst
	}
	if awsAPI {
		// X-Ray names AWS nodes after the service id without spaces
		// ("SecretsManager"), like the X-Ray SDKs' service names.
		svc := awsService(v)
		if strings.IndexByte(svc, ' ') >= 0 {
			svc = strings.ReplaceAll(svc, " ", "")
		}
		if dst, ok = tryName(dst, svc, "", ""); ok {
			return dst
		}
	} else {
		if dst, ok = tryName(dst, v.str(sAWSRemoteSvc), "", ""); ok {
			return dst
		}
		if dst, ok = tryName(dst, v.str(sAWSService), "", ""); ok {
			return dst
		}
	}
	if db := v.str(sDBName); db != "" {
		if dst, ok = tryName(dst, db, "@", v.str(sServerAddr)); ok {
			return dst
		}
	}
	if kind == trace.SpanKindClient || kind == trace.SpanKindProducer {
		if a := v.str(sServerAddr); !strings.Contains(a, "://") {
			if dst, ok = tryName(dst, a, "", ""); ok {
				return dst
			}
		}
	}
	for _, sl := range [...]slot{sRPCService, sHTTPHost, sNetPeerName} {
		if dst, ok = tryName(dst, v.str(sl), "", ""); ok {
			return dst
		}
	}
	// A SQL call with neither database name nor host (SQLite, or otelsql
	// without WithAttributes for them): the database system, not the
	// instrumentation's span name ("sql.conn.query").
	if sys := v.str(sDBSystem); isSQLSystem(sys) {
		if dst, ok = tryName(dst, sys, "", ""); ok {
			return dst
		}
	}
	return appendName(dst, s.Name(), "span")
}
