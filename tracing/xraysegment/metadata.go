package xraysegment

import (
	"encoding/json"
	"math/bits"
	"sort"
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
// the document passes metaSoftBudget bytes. Attributes named
// aws.xray.metadata.<namespace> holding a JSON object (a string, as ADOT
// reads them, or a map value) become metadata.<namespace>; those for
// "default" are merged into metadata.default.
func appendMetadata(dst []byte, v *view, ri *resInfo, isSeg, hasHTTP, hasSQL bool, docStart int) []byte {
	mark := len(dst)
	dst = append(dst, `,"metadata":{"default":{`...)
	m := metaWriter{dst: dst, docStart: docStart, skipRes: isSeg && len(ri.meta) > 0}
	if m.skipRes {
		m.dst = append(m.dst, ri.meta...)
		m.n++
	}
	// The first maxTracked attributes: only those of the groups written
	// here, minus annotations, in order.
	for w := 0; w*64 < len(v.attrs) && w < len(v.annot); w++ {
		cand := v.groups[gMeta][w]
		if !hasHTTP {
			cand |= v.groups[gHTTP][w]
		}
		if !hasSQL {
			cand |= v.groups[gSQL][w]
		}
		if !isSeg {
			cand |= v.groups[gUser][w]
		}
		for cand &^= v.annot[w]; cand != 0; cand &= cand - 1 {
			if m.full() {
				return m.finish(v, mark)
			}
			m.add(&v.attrs[w*64+bits.TrailingZeros64(cand)])
		}
	}
	for i := maxTracked; i < len(v.attrs) && !m.full(); i++ {
		kv := &v.attrs[i]
		s, _ := classify(string(kv.Key))
		switch slotGroup[s] {
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
		m.add(kv)
	}
	return m.finish(v, mark)
}

// MetadataPrefix starts span attribute keys whose value (a JSON object, as a
// string or a map) is written as the X-Ray metadata namespace named by the
// rest of the key: aws.xray.metadata.orders → metadata.orders.
const MetadataPrefix = "aws.xray.metadata."

// metaObject returns the namespace and the compact JSON object of an
// aws.xray.metadata.<ns> attribute, or ok false when kv is not one (or its
// value is no JSON object).
func metaObject(kv *attribute.KeyValue, scratch []byte) (ns string, obj []byte, ok bool) {
	k := string(kv.Key)
	if len(k) <= len(MetadataPrefix) || k[:len(MetadataPrefix)] != MetadataPrefix {
		return "", nil, false
	}
	ns = k[len(MetadataPrefix):]
	switch kv.Value.Type() {
	case attribute.MAP:
		return ns, appendValue(scratch, kv.Value, 0), true
	case attribute.STRING:
		raw := strings.TrimSpace(kv.Value.AsString())
		if len(raw) < 2 || raw[0] != '{' {
			return "", nil, false
		}
		// Decoded and encoded again: compact, keys sorted, duplicate keys
		// (which JSON parsers resolve differently) reduced to the last.
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil || dec.More() {
			return "", nil, false
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return "", nil, false
		}
		return ns, append(scratch, b...), true
	}
	return "", nil, false
}

// closeWithNamespaces closes metadata.default (or drops it when empty) and
// writes the aws.xray.metadata.<ns> namespaces, merging "default" into it.
func (m *metaWriter) closeWithNamespaces(v *view, mark int) []byte {
	budget := func(n int) bool { return len(m.dst)-m.docStart+n <= metaSoftBudget }
	// Members of aws.xray.metadata.default join metadata.default, except
	// keys already there (span attribute keys, otel.resource.*).
	for i := range v.attrs {
		ns, obj, ok := metaObject(&v.attrs[i], nil)
		if !ok || ns != "default" || len(obj) <= 2 || !budget(len(obj)) {
			continue
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(obj, &members) != nil {
			continue
		}
		names := make([]string, 0, len(members))
		for k := range members {
			if !strings.HasPrefix(k, "otel.resource.") && !hasAttr(v.attrs, k) {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			var keyOK bool
			if m.dst, keyOK = appendMetaKey(m.dst, k, m.n > 0); keyOK {
				m.dst = append(m.dst, members[k]...)
				m.n++
			}
		}
	}
	if m.n > 0 {
		m.dst = append(m.dst, '}')
	} else {
		m.dst = m.dst[:len(m.dst)-len(`"default":{`)]
	}
	wrote := m.n > 0
	for i := range v.attrs {
		ns, obj, ok := metaObject(&v.attrs[i], nil)
		if !ok || ns == "default" || !budget(len(ns)+len(obj)+4) {
			continue
		}
		var keyOK bool
		if m.dst, keyOK = appendMetaKey(m.dst, ns, wrote); !keyOK {
			continue
		}
		m.dst = append(m.dst, obj...)
		wrote = true
	}
	if !wrote {
		return m.dst[:mark]
	}
	return append(m.dst, '}')
}

func hasAttr(attrs []attribute.KeyValue, k string) bool {
	for i := range attrs {
		if string(attrs[i].Key) == k {
			return true
		}
	}
	return false
}

// metaWriter writes the members of metadata.default.
type metaWriter struct {
	dst      []byte
	hasNS    bool // an aws.xray.metadata.<ns> attribute was seen
	docStart int
	n        int  // members written, resource entries included
	written  int  // span attributes written
	skipRes  bool // resource entries present: skip span keys that collide
}

// full reports whether the entry or size bound is reached.
func (m *metaWriter) full() bool {
	return m.written == maxMetaEntries || len(m.dst)-m.docStart > metaSoftBudget
}

func (m *metaWriter) add(kv *attribute.KeyValue) {
	if strings.HasPrefix(string(kv.Key), MetadataPrefix) {
		m.hasNS = true
		return // written by closeWithNamespaces
	}
	if m.skipRes && strings.HasPrefix(string(kv.Key), "otel.resource.") {
		return // would collide with a resource entry
	}
	var ok bool
	if m.dst, ok = appendMetaKey(m.dst, string(kv.Key), m.n > 0); !ok {
		return
	}
	if kv.Value.Type() == attribute.STRING {
		m.dst = appendStr(m.dst, kv.Value.AsString(), maxMetaValueBytes, "…")
	} else {
		m.dst = appendValue(m.dst, kv.Value, 0)
	}
	m.n++
	m.written++
}

// finish closes the object, or removes it when it is empty.
func (m *metaWriter) finish(v *view, mark int) []byte {
	if m.hasNS {
		return m.closeWithNamespaces(v, mark)
	}
	if m.n == 0 {
		return m.dst[:mark]
	}
	return append(m.dst, '}', '}')
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
