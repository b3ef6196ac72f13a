package tracing

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/redact"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/internal/xrayid"
)

// scopeName is the instrumentation scope of spans started by [Start] and
// [Go]: this package's import path, at the module's version.
const scopeName = "github.com/o11y-go/o11y/tracing"

// AnnotationsKey is the span attribute listing which attribute keys are
// X-Ray annotations (indexed, searchable). The X-Ray translators (this
// module's tracing/xraysegment, which tracing/xrayudp sends, and the
// collector's awsxray exporter) write the attributes it names as annotations
// and every other attribute as metadata.
const AnnotationsKey = "aws.xray.annotations"

// MaxAnnotations is X-Ray's limit of annotations per trace; [Annotate]
// keeps at most this many per span and turns the rest into metadata.
const MaxAnnotations = 50

// maxMetadataLen bounds the JSON text [AddMetadata] stores for composite
// values, so one call cannot blow the 64 KiB segment.
const maxMetadataLen = 8 << 10

// Start starts a span named name as a child of the span in ctx and returns
// the context holding it. The span comes from the provider of the span in
// ctx when that span is recording (so an SDK started with DisableGlobals, or one
// of several SDKs in a process, keeps its own spans), else from the global
// tracer provider (the one o11y.Start installs). It never fails: without a
// configured provider the span is a no-op. End the span when the work is done:
//
//	ctx, span := tracing.Start(ctx, "charge card")
//	defer span.End()
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	if parent := trace.SpanFromContext(ctx); parent.IsRecording() {
		return version.Tracer(parent.TracerProvider(), scopeName).Start(ctx, name, opts...)
	}
	return tracer().Start(ctx, name, opts...)
}

type tracerCache struct {
	tp trace.TracerProvider
	tr trace.Tracer
}

var cachedTracer atomic.Pointer[tracerCache]

// tracer returns the global provider's tracer, cached per provider: the
// SDK's Tracer method takes a mutex, which [Start] should not pay per span.
// The provider is looked up each time, so a later otel.SetTracerProvider is
// honoured.
func tracer() trace.Tracer {
	tp := otel.GetTracerProvider()
	// Only comparable providers are cached, so this == never panics.
	if c := cachedTracer.Load(); c != nil && c.tp == tp {
		return c.tr
	}
	tr := version.Tracer(tp, scopeName)
	if reflect.TypeOf(tp).Comparable() {
		cachedTracer.Store(&tracerCache{tp: tp, tr: tr})
	}
	return tr
}

// SetUser records the end user of the request on the span in ctx
// (enduser.id), which X-Ray shows as the segment's user and can filter by
// (user = "…"). No recording span or empty id: nothing happens.
func SetUser(ctx context.Context, id string) {
	if ctx == nil || id == "" {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("enduser.id", id))
	}
}

// Go runs fn in a new goroutine with a detached copy of ctx ([Detach]: same
// trace, no cancellation) inside a child span named name that ends when fn
// returns. Use it for work that outlives the request.
func Go(ctx context.Context, name string, fn func(context.Context)) {
	if fn == nil {
		return
	}
	ctx = Detach(ctx)
	go func() {
		ctx, span := Start(ctx, name)
		defer span.End()
		fn(ctx)
	}()
}

// Detach returns a context with the values of ctx (current span, baggage,
// request state) but without its cancellation and deadline, for background
// work that must keep the trace after the request has finished.
func Detach(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return context.WithoutCancel(ctx)
}

// XRayTraceID returns the trace id of the span in ctx in X-Ray form
// ("1-5759e988-bd862e3fe1be46a994272793"), the trace id of an extracted
// X-Amzn-Trace-Id when no span has started yet, or "".
func XRayTraceID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return xrayid.FormatTraceID(sc.TraceID())
	}
	if in := incomingFrom(ctx); in != nil {
		return xrayid.FormatTraceID(in.hdr.TraceID)
	}
	return ""
}

// RecordError records err on the span in ctx as an "exception" event with
// the stack trace and sets the span status to Error. Nil err or no
// recording span: nothing happens.
func RecordError(ctx context.Context, err error) {
	if err == nil || ctx == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if redact.NeedsError(err) {
		// net/http client errors quote the request URL with its query
		// string and user info: record the message with those removed.
		msg := redact.Error(err)
		span.AddEvent("exception", trace.WithAttributes(
			attribute.String("exception.type", reflect.TypeOf(err).String()),
			attribute.String("exception.message", msg),
			attribute.String("exception.stacktrace", string(debug.Stack())),
		))
		span.SetStatus(codes.Error, msg)
		return
	}
	span.RecordError(err, trace.WithStackTrace(true))
	span.SetStatus(codes.Error, err.Error())
}

// Annotate adds an X-Ray annotation (an indexed attribute you can search
// and filter traces by) to the span in ctx: it sets the attribute and
// appends its key to [AnnotationsKey]. The key is sanitised to
// [A-Za-z0-9_] (other characters become "_"), as X-Ray requires. value must
// be a string, bool, integer or finite float (named types of those kinds
// too); anything else, and annotations beyond [MaxAnnotations] on one span,
// is recorded as metadata instead and reported. No recording span: nothing
// happens.
func Annotate(ctx context.Context, key string, value any) {
	if ctx == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	k := sanitizeKey(key)
	if k == "" {
		reporter.Report("tracing.key", errBadKey)
		return
	}
	kv, ok := scalarAttr(k, value)
	if !ok {
		reporter.Report("tracing.annotate", errBadAnnotation)
		setMetadata(span, key, value)
		return
	}
	keys := []string{k}
	// The SDK span can be read back; another implementation's cannot, and
	// then the list holds only the latest key.
	if ro, ok := span.(sdktrace.ReadOnlySpan); ok {
		for _, a := range ro.Attributes() {
			if a.Key == AnnotationsKey && a.Value.Type() == attribute.STRINGSLICE {
				prev := a.Value.AsStringSlice()
				for _, p := range prev {
					if p == k {
						span.SetAttributes(kv)
						return
					}
				}
				if len(prev) >= MaxAnnotations {
					reporter.Report("tracing.annotate.limit", errTooManyAnnotated)
					setMetadata(span, key, value)
					return
				}
				keys = append(prev, k)
				break
			}
		}
	}
	span.SetAttributes(kv, attribute.StringSlice(AnnotationsKey, keys))
}

// AddMetadata records value under key as X-Ray metadata (kept with the
// trace, not searchable) on the span in ctx. Scalars and slices of scalars
// become typed attributes; errors and fmt.Stringers their text; anything
// else its JSON encoding. Text is cut to 8 KiB. No recording span: nothing happens.
func AddMetadata(ctx context.Context, key string, value any) {
	if ctx == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if key == "" {
		reporter.Report("tracing.key", errBadKey)
		return
	}
	setMetadata(span, key, value)
}

func setMetadata(span trace.Span, key string, value any) {
	if kv, ok := scalarAttr(key, value); ok {
		if kv.Value.Type() == attribute.STRING && len(kv.Value.AsString()) > maxMetadataLen {
			kv = attribute.String(key, truncate(kv.Value.AsString()))
		}
		span.SetAttributes(kv)
		return
	}
	switch v := value.(type) {
	case float64, float32: // NaN, ±Inf: keep them readable
		span.SetAttributes(attribute.String(key, strconv.FormatFloat(reflect.ValueOf(v).Float(), 'g', -1, 64)))
	case []string:
		span.SetAttributes(attribute.StringSlice(key, v))
	case []bool:
		span.SetAttributes(attribute.BoolSlice(key, v))
	case []int:
		span.SetAttributes(attribute.IntSlice(key, v))
	case []int64:
		span.SetAttributes(attribute.Int64Slice(key, v))
	case []float64:
		span.SetAttributes(attribute.Float64Slice(key, v))
	case error:
		span.SetAttributes(attribute.String(key, safeString(v.Error)))
	case fmt.Stringer:
		span.SetAttributes(attribute.String(key, safeString(v.String)))
	default:
		span.SetAttributes(attribute.String(key, jsonText(value)))
	}
}

// scalarAttr converts the values X-Ray accepts as annotations.
func scalarAttr(k string, value any) (attribute.KeyValue, bool) {
	switch v := value.(type) {
	case string:
		return attribute.String(k, v), true
	case bool:
		return attribute.Bool(k, v), true
	case int:
		return attribute.Int(k, v), true
	case int64:
		return attribute.Int64(k, v), true
	case float64:
		return floatAttr(k, v)
	}
	rv := reflect.ValueOf(value)
	switch rv.Kind() {
	case reflect.String:
		return attribute.String(k, rv.String()), true
	case reflect.Bool:
		return attribute.Bool(k, rv.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return attribute.Int64(k, rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return attribute.Int64(k, int64(u)), true
		} else {
			return attribute.Float64(k, float64(u)), true
		}
	case reflect.Float32, reflect.Float64:
		return floatAttr(k, rv.Float())
	}
	return attribute.KeyValue{}, false
}

func floatAttr(k string, f float64) (attribute.KeyValue, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return attribute.KeyValue{}, false // not a JSON number
	}
	return attribute.Float64(k, f), true
}

// sanitizeKey maps key to X-Ray's annotation key alphabet [A-Za-z0-9_].
func sanitizeKey(key string) string {
	clean := true
	for i := 0; i < len(key); i++ {
		if !isKeyByte(key[i]) {
			clean = false
			break
		}
	}
	if clean {
		return key
	}
	b := make([]byte, 0, len(key))
	for _, r := range key { // one "_" per rune, not per byte
		if r < utf8.RuneSelf && isKeyByte(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// safeString calls f, turning a panic into a placeholder: user String and
// Error methods must not take the request down.
func safeString(f func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = "<panic>"
		}
	}()
	return truncate(f())
}

func jsonText(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = "<panic>"
		}
	}()
	b, err := json.Marshal(v)
	if err != nil {
		// Not fmt: %v recurses forever on self-referencing maps.
		return "<unencodable " + reflect.TypeOf(v).String() + ">"
	}
	return truncate(string(b))
}

func truncate(s string) string { return jsonenc.TruncateUTF8(s, maxMetadataLen) }
