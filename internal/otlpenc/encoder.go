package otlpenc

import (
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/report"
)

// Field tags of the request, ResourceSpans, ScopeSpans, Resource and
// InstrumentationScope.
const (
	tagReqResourceSpans = 1<<3 | wtBytes
	tagRSResource       = 1<<3 | wtBytes
	tagRSScopeSpans     = 2<<3 | wtBytes
	tagRSSchemaURL      = 3<<3 | wtBytes
	tagSSScope          = 1<<3 | wtBytes
	tagSSSpans          = 2<<3 | wtBytes
	tagSSSchemaURL      = 3<<3 | wtBytes
	tagResAttributes    = 1<<3 | wtBytes
	tagScopeName        = 1<<3 | wtBytes
	tagScopeVersion     = 2<<3 | wtBytes
	tagScopeAttributes  = 3<<3 | wtBytes
)

// ReportKeyInvalidUTF8 is the [report.Reporter] key under which an
// [Encoder] reports batches in which it replaced invalid UTF-8.
const ReportKeyInvalidUTF8 = "otlpenc.utf8"

// ErrInvalidUTF8 is reported (never returned) when a batch held strings
// that were not valid UTF-8; they were sent with U+FFFD in place of the
// invalid bytes.
var ErrInvalidUTF8 = errors.New("otlpenc: invalid UTF-8 in span data replaced with U+FFFD")

// Encoder encodes span batches. Its zero value is ready; it keeps scratch space
// between calls (so steady-state encoding allocates nothing). Not safe for concurrent use.
type Encoder struct {
	// Reporter, when set, receives [ErrInvalidUTF8] under
	// [ReportKeyInvalidUTF8] once per batch that needed sanitising (it
	// rate-limits). Set it before the first call.
	Reporter *report.Reporter

	res    []resGroup
	scopes []scopeGroup
	next   []int32 // next[i]: the span after spans[i] in its scope group, or -1

	ts     []byte                 // trace state being formatted
	tsWalk func(k, v string) bool // e.traceStateMember, bound once

	invalidUTF8 uint64 // strings sanitised during the current call
	totalUTF8   uint64 // strings sanitised since the Encoder was made
}

// resGroup is one ResourceSpans: the first resource seen with its
// attribute set, and its scope groups as a linked list.
type resGroup struct {
	res         *resource.Resource
	dist        attribute.Distinct
	first, last int32 // scope groups
}

// scopeGroup is one ScopeSpans: spans of one resource group and scope.
type scopeGroup struct {
	scope       instrumentation.Scope
	res         *resource.Resource // resource pointer of the first span, for the fast path
	rg          int32
	next        int32 // next scope group of the same resource, or -1
	first, last int32 // spans
}

// InvalidUTF8 returns how many strings e has sanitised (replacing invalid
// UTF-8 with U+FFFD) since it was created. Nil-safe.
func (e *Encoder) InvalidUTF8() uint64 {
	if e == nil {
		return 0
	}
	return e.totalUTF8
}

// AppendTraceRequest appends to dst the protobuf encoding of an ExportTraceServiceRequest
// holding spans (nil entries skipped), grouped into ResourceSpans by resource and into
// ScopeSpans by instrumentation scope, in order of first appearance.
//
// Resources are grouped by [resource.Resource.Equivalent] (as upstream
// does) and scopes by equality of [instrumentation.Scope]. A nil e returns
// dst unchanged.
func (e *Encoder) AppendTraceRequest(dst []byte, spans []sdktrace.ReadOnlySpan) []byte {
	if e == nil || len(spans) == 0 {
		return dst
	}
	e.invalidUTF8 = 0
	e.group(spans)
	b := dst
	for ri := range e.res {
		rg := &e.res[ri]
		b = append(b, tagReqResourceSpans)
		var rs int
		b, rs = openLen(b, 3) // 3 bytes cover bodies of 16 KiB .. 2 MiB, the usual batch
		if rg.res != nil {
			b = append(b, tagRSResource)
			var s int
			b, s = openLen(b, 2)
			for it := rg.res.Iter(); it.Next(); {
				kv := it.Attribute()
				b = e.appendKeyValue(b, tagResAttributes, &kv)
			}
			b = closeLen(b, s, 2)
		}
		for si := rg.first; si >= 0; si = e.scopes[si].next {
			b = e.appendScopeSpans(b, &e.scopes[si], spans)
		}
		b = e.appendStringField(b, tagRSSchemaURL, rg.res.SchemaURL())
		b = closeLen(b, rs, 3)
	}
	// Drop references so the Encoder does not keep resources alive.
	clear(e.res)
	clear(e.scopes)
	if e.invalidUTF8 > 0 {
		e.totalUTF8 += e.invalidUTF8
		e.Reporter.Report(ReportKeyInvalidUTF8, ErrInvalidUTF8)
	}
	return b
}

func (e *Encoder) appendScopeSpans(b []byte, sg *scopeGroup, spans []sdktrace.ReadOnlySpan) []byte {
	b = append(b, tagRSScopeSpans)
	b, start := openLen(b, 3)
	if sc := &sg.scope; *sc != (instrumentation.Scope{}) { // upstream omits the empty scope
		b = append(b, tagSSScope)
		var s int
		b, s = openLen(b, 1)
		b = e.appendStringField(b, tagScopeName, sc.Name)
		b = e.appendStringField(b, tagScopeVersion, sc.Version)
		for it := sc.Attributes.Iter(); it.Next(); {
			kv := it.Attribute()
			b = e.appendKeyValue(b, tagScopeAttributes, &kv)
		}
		b = closeLen(b, s, 1)
	}
	for i := sg.first; i >= 0; i = e.next[i] {
		b = e.appendSpan(b, tagSSSpans, spans[i])
	}
	b = e.appendStringField(b, tagSSSchemaURL, sg.scope.SchemaURL)
	return closeLen(b, start, 3)
}

// group sorts spans into resource and scope groups without allocating in
// steady state: the groups live in reused slices and the spans of a group
// form a linked list through e.next. A batch almost always holds one
// group, so the last group matched is tried first.
func (e *Encoder) group(spans []sdktrace.ReadOnlySpan) {
	e.res = e.res[:0]
	e.scopes = e.scopes[:0]
	if cap(e.next) < len(spans) {
		e.next = make([]int32, len(spans))
	}
	e.next = e.next[:len(spans)]
	last := int32(-1)
	for i, sd := range spans {
		e.next[i] = -1
		if sd == nil {
			continue
		}
		res := sd.Resource()
		scope := sd.InstrumentationScope()
		var sgi int32
		if last >= 0 && e.scopes[last].res == res && e.scopes[last].scope == scope {
			sgi = last
		} else {
			sgi = e.findScope(res, &scope)
			last = sgi
		}
		sg := &e.scopes[sgi]
		if sg.first < 0 {
			sg.first = int32(i) //nolint:gosec // batches are far below 2^31 spans
		} else {
			e.next[sg.last] = int32(i) //nolint:gosec // as above
		}
		sg.last = int32(i) //nolint:gosec // as above
	}
}

// findScope returns the index of the scope group for res and scope,
// creating the resource and scope groups when they are new.
func (e *Encoder) findScope(res *resource.Resource, scope *instrumentation.Scope) int32 {
	dist := res.Equivalent() // nil-safe: a nil resource is the empty one
	ri := int32(-1)
	for j := range e.res {
		if e.res[j].res == res || e.res[j].dist == dist {
			ri = int32(j) //nolint:gosec // few groups
			break
		}
	}
	if ri < 0 {
		ri = int32(len(e.res)) //nolint:gosec // few groups
		e.res = append(e.res, resGroup{res: res, dist: dist, first: -1, last: -1})
	}
	rg := &e.res[ri]
	for si := rg.first; si >= 0; si = e.scopes[si].next {
		if e.scopes[si].scope == *scope {
			return si
		}
	}
	si := int32(len(e.scopes)) //nolint:gosec // few groups
	e.scopes = append(e.scopes, scopeGroup{scope: *scope, res: res, rg: ri, next: -1, first: -1, last: -1})
	if rg.first < 0 {
		rg.first = si
	} else {
		e.scopes[rg.last].next = si
	}
	rg.last = si
	return si
}
