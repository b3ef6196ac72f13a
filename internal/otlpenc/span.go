package otlpenc

import (
	"encoding/binary"
	"unicode/utf8"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field tags of opentelemetry.proto.trace.v1.Span and its parts.
const (
	tagSpanTraceID      = 1<<3 | wtBytes
	tagSpanSpanID       = 2<<3 | wtBytes
	tagSpanTraceState   = 3<<3 | wtBytes
	tagSpanParentSpanID = 4<<3 | wtBytes
	tagSpanName         = 5<<3 | wtBytes
	tagSpanKind         = 6<<3 | wtVarint
	tagSpanStart        = 7<<3 | wtFixed64
	tagSpanEnd          = 8<<3 | wtFixed64
	tagSpanAttributes   = 9<<3 | wtBytes
	tagSpanDroppedAttrs = 10<<3 | wtVarint
	tagSpanEvents       = 11<<3 | wtBytes
	tagSpanDroppedEvts  = 12<<3 | wtVarint
	tagSpanLinks        = 13<<3 | wtBytes
	tagSpanDroppedLinks = 14<<3 | wtVarint
	tagSpanStatus       = 15<<3 | wtBytes
	// Span.flags is field 16, fixed32: its tag is the two-byte varint 0x85 0x01.
	tagSpanFlags0, tagSpanFlags1 = 0x85, 0x01

	tagStatusMessage = 2<<3 | wtBytes
	tagStatusCode    = 3<<3 | wtVarint

	tagEventTime         = 1<<3 | wtFixed64
	tagEventName         = 2<<3 | wtBytes
	tagEventAttributes   = 3<<3 | wtBytes
	tagEventDroppedAttrs = 4<<3 | wtVarint

	tagLinkTraceID      = 1<<3 | wtBytes
	tagLinkSpanID       = 2<<3 | wtBytes
	tagLinkTraceState   = 3<<3 | wtBytes
	tagLinkAttributes   = 4<<3 | wtBytes
	tagLinkDroppedAttrs = 5<<3 | wtVarint
	tagLinkFlags        = 6<<3 | wtFixed32
)

// Span flag bits above the W3C trace flags (SpanFlags in trace.proto).
const (
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200
)

// appendSpan appends sd as field t (ScopeSpans.spans), fields in number
// order as proto.Marshal writes them.
func (e *Encoder) appendSpan(b []byte, t byte, sd sdktrace.ReadOnlySpan) []byte {
	b = append(b, t)
	b, start := openLen(b, 2) // typical spans are 128 B .. 16 KiB

	sc := sd.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = append(b, tagSpanTraceID, 16)
	b = append(b, tid[:]...)
	b = append(b, tagSpanSpanID, 8)
	b = append(b, sid[:]...)
	if ts := sc.TraceState(); ts.Len() > 0 {
		b = e.appendTraceState(b, tagSpanTraceState, ts)
	}
	parent := sd.Parent()
	if psid := parent.SpanID(); psid.IsValid() {
		b = append(b, tagSpanParentSpanID, 8)
		b = append(b, psid[:]...)
	}
	b = e.appendStringField(b, tagSpanName, sd.Name())
	if k := spanKind(sd.SpanKind()); k != 0 {
		b = append(b, tagSpanKind, k)
	}
	if ns := unixNano(sd.StartTime()); ns != 0 {
		b = appendFixed64Field(b, tagSpanStart, ns)
	}
	if ns := unixNano(sd.EndTime()); ns != 0 {
		b = appendFixed64Field(b, tagSpanEnd, ns)
	}
	b = e.appendKeyValues(b, tagSpanAttributes, sd.Attributes())
	if n := clampUint32(sd.DroppedAttributes()); n != 0 {
		b = appendVarintField(b, tagSpanDroppedAttrs, n)
	}
	for i, events := 0, sd.Events(); i < len(events); i++ {
		b = e.appendEvent(b, &events[i])
	}
	if n := clampUint32(sd.DroppedEvents()); n != 0 {
		b = appendVarintField(b, tagSpanDroppedEvts, n)
	}
	for i, links := 0, sd.Links(); i < len(links); i++ {
		b = e.appendLink(b, &links[i])
	}
	if n := clampUint32(sd.DroppedLinks()); n != 0 {
		b = appendVarintField(b, tagSpanDroppedLinks, n)
	}

	// Status is always present, as upstream sets it.
	st := sd.Status()
	b = append(b, tagSpanStatus)
	var ss int
	b, ss = openLen(b, 1)
	b = e.appendStringField(b, tagStatusMessage, st.Description)
	if c := statusCode(st.Code); c != 0 {
		b = append(b, tagStatusCode, c)
	}
	b = closeLen(b, ss, 1)

	b = append(b, tagSpanFlags0, tagSpanFlags1)
	b = binary.LittleEndian.AppendUint32(b, spanFlags(sc.TraceFlags(), parent))
	return closeLen(b, start, 2)
}

func (e *Encoder) appendEvent(b []byte, ev *sdktrace.Event) []byte {
	b = append(b, tagSpanEvents)
	b, start := openLen(b, 1)
	if ns := unixNano(ev.Time); ns != 0 {
		b = appendFixed64Field(b, tagEventTime, ns)
	}
	b = e.appendStringField(b, tagEventName, ev.Name)
	b = e.appendKeyValues(b, tagEventAttributes, ev.Attributes)
	if n := clampUint32(ev.DroppedAttributeCount); n != 0 {
		b = appendVarintField(b, tagEventDroppedAttrs, n)
	}
	return closeLen(b, start, 1)
}

func (e *Encoder) appendLink(b []byte, l *sdktrace.Link) []byte {
	b = append(b, tagSpanLinks)
	b, start := openLen(b, 1)
	sc := l.SpanContext
	tid, sid := sc.TraceID(), sc.SpanID()
	b = append(b, tagLinkTraceID, 16)
	b = append(b, tid[:]...)
	b = append(b, tagLinkSpanID, 8)
	b = append(b, sid[:]...)
	// Upstream leaves Link.trace_state empty; we send it (see doc.go).
	if ts := sc.TraceState(); ts.Len() > 0 {
		b = e.appendTraceState(b, tagLinkTraceState, ts)
	}
	b = e.appendKeyValues(b, tagLinkAttributes, l.Attributes)
	if n := clampUint32(l.DroppedAttributeCount); n != 0 {
		b = appendVarintField(b, tagLinkDroppedAttrs, n)
	}
	b = append(b, tagLinkFlags)
	b = binary.LittleEndian.AppendUint32(b, spanFlags(sc.TraceFlags(), sc))
	return closeLen(b, start, 1)
}

// appendTraceState appends ts in its W3C form ("k=v,k2=v2", what
// TraceState.String returns) as field t, without building the string.
func (e *Encoder) appendTraceState(b []byte, t byte, ts trace.TraceState) []byte {
	if e.tsWalk == nil { // bound once, so Walk does not allocate a closure per span
		e.tsWalk = e.traceStateMember
	}
	e.ts = e.ts[:0]
	ts.Walk(e.tsWalk)
	b = append(b, t)
	if utf8.Valid(e.ts) { // always, unless a TraceState was forged
		b = protowire.AppendVarint(b, uint64(len(e.ts)))
		return append(b, e.ts...)
	}
	return e.appendString(b, string(e.ts))
}

func (e *Encoder) traceStateMember(k, v string) bool {
	if len(e.ts) > 0 {
		e.ts = append(e.ts, ',')
	}
	e.ts = append(e.ts, k...)
	e.ts = append(e.ts, '=')
	e.ts = append(e.ts, v...)
	return true
}

// spanFlags is the upstream Span.flags / Link.flags value: the W3C trace
// flags, HAS_IS_REMOTE always, IS_REMOTE when ctx is remote.
func spanFlags(tf trace.TraceFlags, ctx trace.SpanContext) uint32 {
	f := uint32(tf) | flagHasIsRemote
	if ctx.IsRemote() {
		f |= flagIsRemote
	}
	return f
}

func spanKind(k trace.SpanKind) byte {
	switch k {
	case trace.SpanKindInternal, trace.SpanKindServer, trace.SpanKindClient,
		trace.SpanKindProducer, trace.SpanKindConsumer:
		return byte(k) // the OTel Go and OTLP enums agree on 1..5
	default:
		return 0
	}
}

// statusCode maps OTel Go codes (Unset 0, Error 1, Ok 2) to OTLP
// StatusCode (UNSET 0, OK 1, ERROR 2).
func statusCode(c codes.Code) byte {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	default:
		return 0
	}
}
