package tracing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/version"
)

// withGlobal installs a recording provider as the global one for the test.
func withGlobal(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithIDGenerator(NewIDGenerator()))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	return rec
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

type tier string

type stringer struct{}

func (stringer) String() string { return "str" }

type panicky struct{}

func (panicky) String() string { panic("boom") }

func TestAnnotateAndMetadata(t *testing.T) {
	rec := withGlobal(t)
	ctx, span := Start(context.Background(), "work")
	Annotate(ctx, "customer.id", "c-1")
	Annotate(ctx, "vip", true)
	Annotate(ctx, "items", 3)
	Annotate(ctx, "tier", tier("gold"))
	Annotate(ctx, "big", uint64(math.MaxUint64))
	Annotate(ctx, "ratio", float32(0.5))
	Annotate(ctx, "vip", false)                     // update, not duplicated in the list
	Annotate(ctx, "bad", map[string]int{"a": 1})    // not scalar: metadata
	Annotate(ctx, "nan", math.NaN())                // not a JSON number: metadata
	Annotate(ctx, "", "x")                          // dropped
	AddMetadata(ctx, "order", struct{ ID int }{42}) // JSON
	AddMetadata(ctx, "tags", []string{"a", "b"})
	AddMetadata(ctx, "err", errors.New("e"))
	AddMetadata(ctx, "s", stringer{})
	AddMetadata(ctx, "p", panicky{})
	self := map[string]any{}
	self["self"] = self
	AddMetadata(ctx, "cyclic", self)
	AddMetadata(ctx, "huge", strings.Repeat("é", maxMetadataLen))
	AddMetadata(ctx, "", 1)
	span.End()

	spans := rec.Ended()
	require.Len(t, spans, 1)
	a := attrs(spans[0])
	assert.Equal(t, []string{"customer_id", "vip", "items", "tier", "big", "ratio"}, a[AnnotationsKey].AsStringSlice())
	assert.Equal(t, "c-1", a["customer_id"].AsString())
	assert.False(t, a["vip"].AsBool())
	assert.Equal(t, int64(3), a["items"].AsInt64())
	assert.Equal(t, "gold", a["tier"].AsString())
	assert.Equal(t, float64(math.MaxUint64), a["big"].AsFloat64())
	assert.Equal(t, 0.5, a["ratio"].AsFloat64())
	assert.Equal(t, `{"a":1}`, a["bad"].AsString())
	assert.Equal(t, "NaN", a["nan"].AsString())
	assert.Equal(t, `{"ID":42}`, a["order"].AsString())
	assert.Equal(t, []string{"a", "b"}, a["tags"].AsStringSlice())
	assert.Equal(t, "e", a["err"].AsString())
	assert.Equal(t, "str", a["s"].AsString())
	assert.Equal(t, "<panic>", a["p"].AsString())
	assert.Equal(t, "<unencodable map[string]interface {}>", a["cyclic"].AsString())
	assert.LessOrEqual(t, len(a["huge"].AsString()), maxMetadataLen)
	_, hasEmpty := a[""]
	assert.False(t, hasEmpty)
}

func TestAnnotateLimit(t *testing.T) {
	rec := withGlobal(t)
	ctx, span := Start(context.Background(), "work")
	for i := 0; i < MaxAnnotations+5; i++ {
		Annotate(ctx, "k"+strconv.Itoa(i), i)
	}
	span.End()
	a := attrs(rec.Ended()[0])
	assert.Len(t, a[AnnotationsKey].AsStringSlice(), MaxAnnotations)
	assert.Equal(t, int64(MaxAnnotations+1), a["k51"].AsInt64(), "over the limit: kept as metadata")
}

func TestSanitizeKey(t *testing.T) {
	for in, want := range map[string]string{
		"ok_Key9":     "ok_Key9",
		"tenant.id":   "tenant_id",
		"a b-c":       "a_b_c",
		"café":        "caf_",
		"\xff":        "_",
		"":            "",
		"http.status": "http_status",
	} {
		assert.Equal(t, want, sanitizeKey(in), in)
	}
}

func TestRecordError(t *testing.T) {
	rec := withGlobal(t)
	ctx, span := Start(context.Background(), "work")
	RecordError(ctx, errors.New("boom"))
	RecordError(ctx, nil)
	span.End()
	s := rec.Ended()[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, "boom", s.Status().Description)
	require.Len(t, s.Events(), 1)
	ev := s.Events()[0]
	assert.Equal(t, "exception", ev.Name)
	evAttrs := map[attribute.Key]string{}
	for _, kv := range ev.Attributes {
		evAttrs[kv.Key] = kv.Value.String()
	}
	assert.Equal(t, "boom", evAttrs["exception.message"])
	assert.Contains(t, evAttrs["exception.stacktrace"], "TestRecordError")
}

func TestHelpersWithoutSpanAreNoops(t *testing.T) {
	withGlobal(t)
	//nolint:staticcheck // nil contexts on purpose
	for _, ctx := range []context.Context{context.Background(), nil} {
		assert.NotPanics(t, func() {
			Annotate(ctx, "k", "v")
			AddMetadata(ctx, "k", "v")
			RecordError(ctx, errors.New("x"))
			assert.Equal(t, "", XRayTraceID(ctx))
			assert.NotNil(t, Detach(ctx))
			_, span := Start(ctx, "s")
			span.End()
		})
	}
	// Unsampled span: nothing allocated or recorded.
	ctx := trace.ContextWithSpanContext(context.Background(), h1SpanContext(false))
	allocs := testing.AllocsPerRun(100, func() {
		Annotate(ctx, "k", "v")
		AddMetadata(ctx, "k", 1)
		RecordError(ctx, errTest)
	})
	assert.Zero(t, allocs)
}

var errTest = errors.New("test")

func TestXRayTraceID(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), h1SpanContext(true))
	assert.Equal(t, h1Root, XRayTraceID(ctx))
	// Before any span: the extracted Root-only header's trace id.
	ctx = XRayPropagator{}.Extract(context.Background(), mapCarrier{HeaderName: "Root=" + h1Root})
	assert.Equal(t, h1Root, XRayTraceID(ctx))
}

type mapCarrier map[string]string

func (m mapCarrier) Get(k string) string { return m[k] }
func (m mapCarrier) Set(k, v string)     { m[k] = v }
func (m mapCarrier) Keys() []string      { return nil }

func TestDetachAndGo(t *testing.T) {
	rec := withGlobal(t)
	parent, cancel := context.WithTimeout(context.Background(), time.Hour)
	ctx, span := Start(parent, "request")
	d := Detach(ctx)
	cancel()
	assert.Error(t, ctx.Err())
	assert.NoError(t, d.Err())
	_, hasDeadline := d.Deadline()
	assert.False(t, hasDeadline)
	assert.Equal(t, span.SpanContext(), trace.SpanContextFromContext(d))

	var wg sync.WaitGroup
	wg.Add(1)
	var bgErr error
	Go(ctx, "background", func(ctx context.Context) {
		defer wg.Done()
		bgErr = ctx.Err()
		Annotate(ctx, "job", "x")
	})
	wg.Wait()
	span.End()
	assert.NoError(t, bgErr)
	Go(ctx, "nil fn", nil)

	require.Eventually(t, func() bool { return len(rec.Ended()) == 2 }, time.Second, time.Millisecond)
	for _, s := range rec.Ended() {
		if s.Name() == "background" {
			assert.Equal(t, span.SpanContext().SpanID(), s.Parent().SpanID())
			assert.Equal(t, span.SpanContext().TraceID(), s.SpanContext().TraceID())
			assert.Equal(t, "x", attrs(s)["job"].AsString())
		}
	}
}

func TestStartFollowsGlobalProvider(t *testing.T) {
	rec1 := withGlobal(t)
	_, s := Start(context.Background(), "one")
	s.End()
	rec2 := withGlobal(t) // a new global provider must be picked up
	ctx, s := Start(context.Background(), "two")
	SetUser(ctx, "u-1")
	s.End()
	require.Len(t, rec1.Ended(), 1)
	require.Len(t, rec2.Ended(), 1)
	assert.Equal(t, "two", rec2.Ended()[0].Name())
	assert.Equal(t, "u-1", attrs(rec2.Ended()[0])["enduser.id"].AsString())
	scope := rec2.Ended()[0].InstrumentationScope()
	assert.Equal(t, "github.com/o11y-go/o11y/tracing", scope.Name, "scope = import path")
	assert.Equal(t, version.Version, scope.Version)
	assert.NotEmpty(t, scope.Version)
}

func TestStartUsesTheParentSpansProvider(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	// The global provider is not tp: a DisableGlobals SDK, or one of several.
	ctx, parent := tp.Tracer("t").Start(context.Background(), "parent")
	_, child := Start(ctx, "child")
	child.End()
	parent.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 2, "the child must be recorded by the parent's provider")
	assert.Equal(t, "child", spans[0].Name)
	assert.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent.SpanID())
}

func TestRecordErrorRedactsURLCredentials(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("t").Start(context.Background(), "call")
	err := &url.Error{Op: "Get", URL: "https://bob:pw-secret@inv.internal/items?token=tok-secret", Err: errors.New("connection refused")}
	RecordError(ctx, fmt.Errorf("inventory: %w", err))
	span.End()
	s := exp.GetSpans()[0]
	require.Len(t, s.Events, 1)
	var all strings.Builder
	all.WriteString(s.Status.Description)
	for _, a := range s.Events[0].Attributes {
		all.WriteString(a.Value.String())
	}
	assert.NotContains(t, all.String(), "pw-secret")
	assert.NotContains(t, all.String(), "tok-secret")
	assert.Contains(t, all.String(), "inv.internal/items")
	assert.Contains(t, all.String(), "*fmt.wrapError")
}
