package xrayudp

import (
	"strings"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/xrayid"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func appendLinks(dst []byte, links []sdktrace.Link) []byte {
	n := 0
	for _, l := range links {
		if n == maxLinks {
			break
		}
		if !l.SpanContext.IsValid() {
			continue
		}
		if n == 0 {
			dst = append(dst, `,"links":[`...)
		} else {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, `{"trace_id":"`...)
		dst = xrayid.AppendTraceID(dst, l.SpanContext.TraceID())
		dst = append(dst, `","id":"`...)
		dst = xrayid.AppendSpanID(dst, l.SpanContext.SpanID())
		dst = append(dst, '"')
		if len(l.Attributes) > 0 {
			dst = append(dst, `,"attributes":{`...)
			na := 0
			for _, kv := range l.Attributes {
				if na == maxLinkAttrs {
					break
				}
				var ok bool
				if dst, ok = appendMetaKey(dst, string(kv.Key), na > 0); !ok {
					continue
				}
				dst = appendValue(dst, kv.Value, 0)
				na++
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if n > 0 {
		dst = append(dst, ']')
	}
	return dst
}

// appendMetadata writes metadata.default: resource attributes (segments
// only, as otel.resource.<key>) and every span attribute not consumed by a
// structured field or an annotation. Entries stop at maxMetaEntries or once
// the document passes metaSoftBudget bytes.
func appendMetadata(dst []byte, v *view, ri *resInfo, isSeg, hasHTTP, hasSQL bool, docStart int) []byte {
	mark := len(dst)
	dst = append(dst, `,"metadata":{"default":{`...)
	n := 0
	if isSeg && len(ri.meta) > 0 {
		dst = append(dst, ri.meta...)
		n++
	}
	written := 0
	for i, kv := range v.attrs {
		if written == maxMetaEntries || len(dst)-docStart > metaSoftBudget {
			break
		}
		if i < maxTracked && v.annot[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		if isSeg && len(ri.meta) > 0 && strings.HasPrefix(string(kv.Key), "otel.resource.") {
			continue // would collide with a resource entry
		}
		switch slotGroup[v.slotAt(i)] {
		case gHidden, gAWS:
			continue
		case gHTTP:
			if hasHTTP {
				continue
			}
		case gSQL:
			if hasSQL {
				continue
			}
		case gUser:
			if isSeg {
				continue
			}
		}
		var ok bool
		if dst, ok = appendMetaKey(dst, string(kv.Key), n > 0); !ok {
			continue
		}
		dst = appendValue(dst, kv.Value, 0)
		n++
		written++
	}
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}', '}')
}

// appendValue writes an attribute value as JSON, bounded: long strings are
// cut, slices keep their first items, nesting stops at depth 3.
func appendValue(dst []byte, val attribute.Value, depth int) []byte {
	switch val.Type() {
	case attribute.BOOL:
		return jsonenc.AppendBool(dst, val.AsBool())
	case attribute.INT64:
		return jsonenc.AppendInt(dst, val.AsInt64())
	case attribute.FLOAT64:
		return jsonenc.AppendFloat(dst, val.AsFloat64())
	case attribute.STRING, attribute.BYTESLICE:
		return appendStr(dst, val.AsString(), maxMetaValueBytes, "…")
	case attribute.BOOLSLICE:
		return appendSlice(dst, val.AsBoolSlice(), jsonenc.AppendBool)
	case attribute.INT64SLICE:
		return appendSlice(dst, val.AsInt64Slice(), jsonenc.AppendInt)
	case attribute.FLOAT64SLICE:
		return appendSlice(dst, val.AsFloat64Slice(), jsonenc.AppendFloat)
	case attribute.STRINGSLICE:
		return appendSlice(dst, val.AsStringSlice(), func(d []byte, s string) []byte {
			return appendStr(d, s, maxStringBytes, "…")
		})
	case attribute.SLICE:
		if depth >= 3 {
			return append(dst, "null"...)
		}
		return appendSlice(dst, val.AsSlice(), func(d []byte, x attribute.Value) []byte {
			return appendValue(d, x, depth+1)
		})
	case attribute.MAP:
		if depth >= 3 {
			return append(dst, "null"...)
		}
		dst = append(dst, '{')
		kvs := val.AsMap() // sorted by key, possibly with duplicates
		n := 0
		for i, kv := range kvs {
			if n == maxMetaSliceItems {
				break
			}
			if i > 0 && kvs[i-1].Key == kv.Key {
				continue
			}
			var ok bool
			if dst, ok = appendMetaKey(dst, string(kv.Key), n > 0); !ok {
				continue
			}
			dst = appendValue(dst, kv.Value, depth+1)
			n++
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

func appendSlice[T any](dst []byte, items []T, f func([]byte, T) []byte) []byte {
	dst = append(dst, '[')
	for i, x := range items {
		if i == maxMetaSliceItems {
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = f(dst, x)
	}
	return append(dst, ']')
}
