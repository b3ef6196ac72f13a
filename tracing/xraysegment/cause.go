package xraysegment

import (
	"strconv"
	"strings"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// appendCause writes cause.exceptions from "exception" span events (with Go
// stack frames when stacks is true), or one exception carrying the status
// description (and statusType) when the span failed without recording an
// exception.
func (e *Encoder) appendCause(dst []byte, s sdktrace.ReadOnlySpan, code codes.Code, statusMsg string, kind trace.SpanKind, statusType string, stacks bool) []byte {
	remote := kind == trace.SpanKindClient || kind == trace.SpanKindProducer
	n := 0
	for _, ev := range s.Events() {
		if ev.Name != "exception" {
			continue
		}
		if n == maxExceptions {
			break
		}
		var typ, msg, stack string
		for _, kv := range ev.Attributes {
			switch kv.Key {
			case "exception.type":
				typ = valueString(kv.Value)
			case "exception.message":
				msg = valueString(kv.Value)
			case "exception.stacktrace":
				stack = valueString(kv.Value)
			}
		}
		if !stacks {
			stack = ""
		}
		dst = e.appendException(dst, n, typ, msg, stack, remote)
		n++
	}
	if n == 0 {
		if code != codes.Error || statusMsg == "" {
			return dst
		}
		dst = e.appendException(dst, 0, statusType, statusMsg, "", remote)
	}
	return append(dst, ']', '}')
}

func valueString(v attribute.Value) string {
	if v.Type() == attribute.STRING {
		return v.AsString()
	}
	return ""
}

func (e *Encoder) appendException(dst []byte, i int, typ, msg, stack string, remote bool) []byte {
	if i == 0 {
		dst = append(dst, `,"cause":{"exceptions":[`...)
	} else {
		dst = append(dst, ',')
	}
	id := e.newExceptionID()
	dst = append(dst, `{"id":"`...)
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, "0123456789abcdef"[(id>>uint(shift))&0xF])
	}
	dst = append(dst, '"')
	if typ != "" {
		dst = append(dst, `,"type":`...)
		dst = appendStr(dst, typ, maxStringBytes, "")
	}
	if msg != "" {
		dst = append(dst, `,"message":`...)
		dst = appendStr(dst, msg, maxMessageBytes, "…")
	}
	if remote {
		dst = append(dst, `,"remote":true`...)
	}
	if stack != "" {
		dst = appendGoStack(dst, stack)
	}
	return append(dst, '}')
}

// appendGoStack parses a Go stack trace as written by runtime.Stack /
// debug.Stack (what the OTel SDK records with WithStackTrace) into
// `,"stack":[{"path","line","label"}…]`, keeping maxStackFrames frames and
// counting the rest in "truncated". Unrecognised text yields no frames.
//
//	goroutine 1 [running]:
//	main.handler(0x1?, {0x2, 0x3})
//		/src/app/main.go:42 +0x1d
//	created by net/http.(*Server).Serve in goroutine 6
//		/usr/local/go/src/net/http/server.go:3454 +0x485
func appendGoStack(dst []byte, st string) []byte {
	frames, truncated := 0, 0
	label := ""
	haveLabel := false
	for len(st) > 0 {
		var line string
		if i := strings.IndexByte(st, '\n'); i >= 0 {
			line, st = st[:i], st[i+1:]
		} else {
			line, st = st, ""
		}
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "goroutine ") {
			haveLabel = false
			continue
		}
		if line[0] != '\t' && line[0] != ' ' {
			label, haveLabel = funcLabel(line), true
			continue
		}
		if !haveLabel {
			continue
		}
		haveLabel = false
		loc := strings.TrimSpace(line)
		if sp := strings.LastIndex(loc, " +0x"); sp >= 0 {
			loc = loc[:sp]
		}
		colon := strings.LastIndexByte(loc, ':')
		if colon <= 0 {
			continue
		}
		lineNo, err := strconv.Atoi(loc[colon+1:])
		if err != nil {
			continue
		}
		if frames == maxStackFrames {
			truncated++
			continue
		}
		if frames == 0 {
			dst = append(dst, `,"stack":[`...)
		} else {
			dst = append(dst, ',')
		}
		frames++
		dst = append(dst, `{"path":`...)
		dst = appendPath(dst, loc[:colon])
		dst = append(dst, `,"line":`...)
		dst = strconv.AppendInt(dst, int64(lineNo), 10)
		dst = append(dst, `,"label":`...)
		dst = appendStr(dst, label, maxStringBytes, "")
		dst = append(dst, '}')
	}
	if frames > 0 {
		dst = append(dst, ']')
	}
	if truncated > 0 {
		dst = append(dst, `,"truncated":`...)
		dst = strconv.AppendInt(dst, int64(truncated), 10)
	}
	return dst
}

// funcLabel strips the argument list (and "created by … in goroutine N").
func funcLabel(line string) string {
	if rest, ok := strings.CutPrefix(line, "created by "); ok {
		if i := strings.Index(rest, " in goroutine "); i >= 0 {
			rest = rest[:i]
		}
		return rest
	}
	if strings.HasSuffix(line, ")") {
		// The argument list is the last balanced (...) group.
		depth := 0
		for i := len(line) - 1; i >= 0; i-- {
			switch line[i] {
			case ')':
				depth++
			case '(':
				depth--
				if depth == 0 {
					return line[:i]
				}
			}
		}
	}
	return line
}

// appendPath writes a file path, keeping its tail when it is too long (the
// file name matters more than the directory prefix).
func appendPath(dst []byte, p string) []byte {
	if len(p) > maxStringBytes {
		cut := len(p) - maxStringBytes
		for cut < len(p) && p[cut]&0xC0 == 0x80 {
			cut++
		}
		p = p[cut:]
	}
	return jsonenc.AppendString(dst, p)
}
