package otlpenc

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/o11y-go/o11y/internal/report"
)

// variedBatch covers the span shapes the upstream mapping distinguishes.
// Link trace states are left empty here (upstream drops them); see
// TestLinkTraceState.
func variedBatch(t testing.TB) []sdktrace.ReadOnlySpan {
	r1 := testResource(t, "https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "orders"), attribute.String("cloud.platform", "aws_ecs"))
	r1b := testResource(t, "https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "orders"), attribute.String("cloud.platform", "aws_ecs")) // same set, other pointer
	r2 := testResource(t, "", attribute.String("service.name", "billing"), attribute.Int("big", 1<<20))
	s1 := instrumentation.Scope{Name: "scope.one", Version: "1.2.3", SchemaURL: "https://example.com/s1",
		Attributes: attribute.NewSet(attribute.String("scope.attr", "v"), attribute.Int("n", 1))}
	s2 := instrumentation.Scope{Name: "scope.two"}
	sSchemaOnly := instrumentation.Scope{SchemaURL: "https://example.com/only"}

	long := strings.Repeat("z", 20000) // pushes a span over 16 KiB: its length needs 3 bytes
	ts := mustTraceState(t, "vendor=abc,rojo=00f067aa0ba902b7")
	return []sdktrace.ReadOnlySpan{
		tracetest.SpanStub{ // everything, remote parent
			Name:        "everything",
			SpanContext: spanCtx(traceID1, spanID(1), true, false, ts),
			Parent:      spanCtx(traceID1, spanID(0xf0), true, true, trace.TraceState{}),
			SpanKind:    trace.SpanKindServer,
			StartTime:   baseTime,
			EndTime:     baseTime.Add(1500 * time.Microsecond),
			Attributes:  allTypesAttrs(),
			Events: []sdktrace.Event{
				{Name: "exception", Time: baseTime.Add(time.Microsecond), DroppedAttributeCount: 2,
					Attributes: []attribute.KeyValue{attribute.String("exception.type", "*errors.errorString"), attribute.Int("n", 7)}},
				{Name: "", Time: time.Unix(-10, 0)},
				{Name: "no-time"},
			},
			Links: []sdktrace.Link{
				{SpanContext: spanCtx(traceID2, spanID(9), true, true, trace.TraceState{}),
					Attributes: []attribute.KeyValue{attribute.String("link.kind", "remote")}, DroppedAttributeCount: 1},
				{SpanContext: spanCtx(traceID1, spanID(8), false, false, trace.TraceState{})},
			},
			Status:            sdktrace.Status{Code: codes.Error, Description: "boom"},
			DroppedAttributes: 3, DroppedEvents: 4, DroppedLinks: 5,
			Resource:             r1,
			InstrumentationScope: s1,
		}.Snapshot(),
		nil,
		tracetest.SpanStub{ // root, tiny: its length shrinks to 1 byte
			SpanContext:          spanCtx(traceID2, spanID(2), false, false, trace.TraceState{}),
			Status:               sdktrace.Status{Code: codes.Ok},
			Resource:             r2,
			InstrumentationScope: s1,
		}.Snapshot(),
		tracetest.SpanStub{ // local parent, huge attribute, clamped counts and times
			Name:                 "huge",
			SpanContext:          spanCtx(traceID1, spanID(3), true, false, trace.TraceState{}),
			Parent:               spanCtx(traceID1, spanID(1), true, false, trace.TraceState{}),
			SpanKind:             trace.SpanKindClient,
			StartTime:            time.Unix(-1, 0),
			EndTime:              baseTime,
			Attributes:           []attribute.KeyValue{attribute.String("long", long)},
			DroppedAttributes:    math.MaxInt,
			DroppedEvents:        -7,
			DroppedLinks:         math.MaxUint32,
			Resource:             r1b,
			InstrumentationScope: s2,
		}.Snapshot(),
		tracetest.SpanStub{ // odd kind and status code, schema-only scope
			Name:                 "odd",
			SpanContext:          spanCtx(traceID1, spanID(4), true, false, trace.TraceState{}),
			SpanKind:             trace.SpanKind(99),
			Status:               sdktrace.Status{Code: codes.Code(7), Description: "ignored code"},
			Resource:             r1,
			InstrumentationScope: sSchemaOnly,
		}.Snapshot(),
		tracetest.SpanStub{Name: "producer", SpanKind: trace.SpanKindProducer, SpanContext: spanCtx(traceID1, spanID(5), true, false, trace.TraceState{}),
			Resource: r1, InstrumentationScope: s1}.Snapshot(),
		tracetest.SpanStub{Name: "consumer", SpanKind: trace.SpanKindConsumer, SpanContext: spanCtx(traceID1, spanID(6), true, true, trace.TraceState{}),
			Resource: r2, InstrumentationScope: instrumentation.Scope{}}.Snapshot(),
		tracetest.SpanStub{Name: "internal", SpanKind: trace.SpanKindInternal, SpanContext: spanCtx(traceID1, spanID(7), true, false, trace.TraceState{}),
			Resource: r1, InstrumentationScope: s2}.Snapshot(),
		nil,
	}
}

// realSpans records spans through a real TracerProvider.
func realSpans(t testing.TB) []sdktrace.ReadOnlySpan {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(testResource(t, "", attribute.String("service.name", "real"))),
		sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{AttributeCountLimit: 3, EventCountLimit: 1, LinkCountLimit: 1,
			AttributePerEventCountLimit: 1, AttributePerLinkCountLimit: 1, AttributeValueLengthLimit: 8}))
	tr := tp.Tracer("real.scope", trace.WithInstrumentationVersion("v9"), trace.WithSchemaURL("https://example.com/real"))
	remote := trace.ContextWithRemoteSpanContext(context.Background(),
		spanCtx(traceID2, spanID(0x77), true, true, mustTraceState(t, "k=v")))
	ctx, parent := tr.Start(remote, "parent", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithLinks(trace.Link{SpanContext: spanCtx(traceID1, spanID(1), true, true, trace.TraceState{}),
			Attributes: []attribute.KeyValue{attribute.String("a", "1"), attribute.String("b", "2")}},
			trace.Link{SpanContext: spanCtx(traceID1, spanID(2), true, false, trace.TraceState{})}))
	parent.SetAttributes(attribute.String("truncated", "0123456789abcdef"), attribute.Int("a", 1),
		attribute.Bool("b", true), attribute.Float64("dropped", 1))
	parent.AddEvent("e1", trace.WithAttributes(attribute.Int("x", 1), attribute.Int("y", 2)))
	parent.AddEvent("e2")
	_, child := tr.Start(ctx, "child")
	child.RecordError(errors.New("child failed"))
	child.SetStatus(codes.Error, "child failed")
	child.End()
	parent.SetStatus(codes.Ok, "")
	parent.End()
	spans := exp.GetSpans().Snapshots() // before Shutdown, which resets exp
	require.NoError(t, tp.Shutdown(context.Background()))
	require.Len(t, spans, 2)
	return spans
}

func TestEquivalentToUpstream(t *testing.T) {
	res := testResource(t, "", attribute.String("service.name", "http"))
	typical := make([]sdktrace.ReadOnlySpan, 16)
	for i := range typical {
		typical[i] = httpSpan(res, i)
	}
	cases := []struct {
		name  string
		spans []sdktrace.ReadOnlySpan
	}{
		{"varied", variedBatch(t)},
		{"real provider", realSpans(t)},
		{"typical http", typical},
		{"nil then empty resource", []sdktrace.ReadOnlySpan{
			tracetest.SpanStub{Name: "nil res", SpanContext: spanCtx(traceID1, spanID(1), true, false, trace.TraceState{})}.Snapshot(),
			tracetest.SpanStub{Name: "empty res", SpanContext: spanCtx(traceID1, spanID(2), true, false, trace.TraceState{}), Resource: resource.Empty()}.Snapshot(),
		}},
		{"empty then nil resource", []sdktrace.ReadOnlySpan{
			tracetest.SpanStub{Name: "empty res", SpanContext: spanCtx(traceID1, spanID(2), true, false, trace.TraceState{}), Resource: resource.Empty()}.Snapshot(),
			tracetest.SpanStub{Name: "nil res", SpanContext: spanCtx(traceID1, spanID(1), true, false, trace.TraceState{})}.Snapshot(),
		}},
	}
	batches := make([][]sdktrace.ReadOnlySpan, len(cases))
	for i, tc := range cases {
		batches[i] = tc.spans
	}
	want := upstreamRequests(t, batches...)

	var e Encoder
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Encode twice with one Encoder: the second call reuses scratch
			// space and must produce the same bytes.
			first := e.AppendTraceRequest(nil, tc.spans)
			got := e.AppendTraceRequest([]byte("prefix"), tc.spans)
			require.Equal(t, "prefix", string(got[:6]))
			require.Equal(t, first, got[6:])

			req := decode(t, first)
			sortResourceSpans(req)
			sortResourceSpans(want[i])
			if !proto.Equal(want[i], req) {
				t.Fatalf("differs from upstream\nupstream: %v\nours:     %v", want[i], req)
			}
			// Canonical encoding: proto.Marshal of the decoded message
			// yields our bytes when there is a single ResourceSpans (map
			// order aside, Go protobuf writes fields in number order).
			if len(req.ResourceSpans) == 1 {
				again, err := proto.Marshal(decode(t, first))
				require.NoError(t, err)
				assert.Equal(t, again, first, "not the canonical field order/minimal varints")
			}
		})
	}
}

func TestGroupingOrder(t *testing.T) {
	r1 := testResource(t, "", attribute.String("r", "1"))
	r2 := testResource(t, "", attribute.String("r", "2"))
	sa := instrumentation.Scope{Name: "a"}
	sb := instrumentation.Scope{Name: "b"}
	mk := func(res *resource.Resource, sc instrumentation.Scope, name string) sdktrace.ReadOnlySpan {
		return tracetest.SpanStub{Name: name, Resource: res, InstrumentationScope: sc}.Snapshot()
	}
	spans := []sdktrace.ReadOnlySpan{
		mk(r2, sb, "1"), mk(r1, sa, "2"), mk(r2, sa, "3"), mk(r2, sb, "4"), nil, mk(r1, sa, "5"), mk(r2, sa, "6"),
	}
	var e Encoder
	req := decode(t, e.AppendTraceRequest(nil, spans))
	var got []string
	for _, rs := range req.ResourceSpans {
		var s strings.Builder
		s.WriteString(rs.Resource.Attributes[0].Value.GetStringValue())
		for _, ss := range rs.ScopeSpans {
			s.WriteString(" " + ss.Scope.Name + ":")
			for _, sp := range ss.Spans {
				s.WriteString(sp.Name)
			}
		}
		got = append(got, s.String())
	}
	assert.Equal(t, []string{"2 b:14 a:36", "1 a:25"}, got)
}

func TestEmptyAndNil(t *testing.T) {
	var e Encoder
	assert.Equal(t, []byte("x"), e.AppendTraceRequest([]byte("x"), nil))
	assert.Empty(t, e.AppendTraceRequest(nil, []sdktrace.ReadOnlySpan{nil, nil}))
	var nilEnc *Encoder
	assert.Equal(t, []byte("x"), nilEnc.AppendTraceRequest([]byte("x"), variedBatch(t)))
	assert.Zero(t, nilEnc.InvalidUTF8())
}

// TestLinkTraceState covers a deliberate difference: the link's trace
// state is sent (upstream leaves Link.trace_state empty).
func TestLinkTraceState(t *testing.T) {
	ts := mustTraceState(t, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
	span := tracetest.SpanStub{
		Name:        "linked",
		SpanContext: spanCtx(traceID1, spanID(1), true, false, trace.TraceState{}),
		Links:       []sdktrace.Link{{SpanContext: spanCtx(traceID2, spanID(2), true, true, ts)}},
	}.Snapshot()
	spans := []sdktrace.ReadOnlySpan{span}
	var e Encoder
	req := decode(t, e.AppendTraceRequest(nil, spans))
	link := req.ResourceSpans[0].ScopeSpans[0].Spans[0].Links[0]
	assert.Equal(t, ts.String(), link.TraceState)
	assert.Equal(t, uint32(0x301), link.Flags)

	// Apart from the trace state, the same as upstream.
	want := upstreamRequests(t, spans)[0]
	assert.Empty(t, want.ResourceSpans[0].ScopeSpans[0].Spans[0].Links[0].TraceState)
	link.TraceState = ""
	assert.True(t, proto.Equal(want, req), "upstream: %v\nours: %v", want, req)
}

// TestInvalidUTF8 covers the other deliberate difference: invalid UTF-8 is
// replaced, so the request still decodes (protobuf validates UTF-8).
func TestInvalidUTF8(t *testing.T) {
	bad := "a\xffb\xc3" // an invalid byte and a truncated sequence
	const want = "a\uFFFDb\uFFFD"
	res := testResource(t, "", attribute.String("res"+bad, bad))
	span := tracetest.SpanStub{
		Name:        bad,
		SpanContext: spanCtx(traceID1, spanID(1), true, false, trace.TraceState{}),
		Attributes: []attribute.KeyValue{
			attribute.String(bad, bad),
			attribute.StringSlice("ss", []string{bad}),
			attribute.Map("m", attribute.String(bad, "ok")),
			attribute.ByteSlice("bytes", []byte(bad)), // bytes are not text: kept as is
		},
		Events:               []sdktrace.Event{{Name: bad, Attributes: []attribute.KeyValue{attribute.String("k", bad)}}},
		Links:                []sdktrace.Link{{SpanContext: spanCtx(traceID2, spanID(2), true, true, trace.TraceState{}), Attributes: []attribute.KeyValue{attribute.String("k", bad)}}},
		Status:               sdktrace.Status{Code: codes.Error, Description: bad},
		Resource:             res,
		InstrumentationScope: instrumentation.Scope{Name: bad, Version: bad, SchemaURL: bad},
	}.Snapshot()

	var reported []error
	rep := report.New(func(err error) { reported = append(reported, err) }, time.Hour)
	e := Encoder{Reporter: rep}
	b := e.AppendTraceRequest(nil, []sdktrace.ReadOnlySpan{span})
	req := decode(t, b) // would fail on invalid UTF-8

	rs := req.ResourceSpans[0]
	assert.Equal(t, "res"+want, rs.Resource.Attributes[0].Key)
	assert.Equal(t, want, rs.Resource.Attributes[0].Value.GetStringValue())
	ss := rs.ScopeSpans[0]
	assert.Equal(t, want, ss.Scope.Name)
	assert.Equal(t, want, ss.Scope.Version)
	assert.Equal(t, want, ss.SchemaUrl)
	sp := ss.Spans[0]
	assert.Equal(t, want, sp.Name)
	assert.Equal(t, want, sp.Attributes[0].Key)
	assert.Equal(t, want, sp.Attributes[0].Value.GetStringValue())
	assert.Equal(t, want, sp.Attributes[1].Value.GetArrayValue().Values[0].GetStringValue())
	assert.Equal(t, want, sp.Attributes[2].Value.GetKvlistValue().Values[0].Key)
	assert.Equal(t, []byte(bad), sp.Attributes[3].Value.GetBytesValue())
	assert.Equal(t, want, sp.Events[0].Name)
	assert.Equal(t, want, sp.Events[0].Attributes[0].Value.GetStringValue())
	assert.Equal(t, want, sp.Links[0].Attributes[0].Value.GetStringValue())
	assert.Equal(t, want, sp.Status.Message)
	assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, sp.Status.Code)

	assert.Equal(t, uint64(14), e.InvalidUTF8())
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], ErrInvalidUTF8)

	// A clean batch afterwards reports nothing new.
	before := rep.Total()
	_ = e.AppendTraceRequest(nil, []sdktrace.ReadOnlySpan{httpSpan(resource.Empty(), 1)})
	assert.Equal(t, before, rep.Total())
}

func TestSanitize(t *testing.T) {
	for _, s := range []string{"", "ok", "\xff", "\xff\xfe", "é", "\xc3", "a\xe2\x82", "\xed\xa0\x80", "日本\xf0\x9f\x98"} {
		got := string(appendSanitized(nil, s))
		assert.Equal(t, string([]rune(s)), got, "%q", s) // []rune replaces each invalid byte too
		assert.Equal(t, len(got), sanitizedLen(s), "%q", s)
	}
}

func TestValidUTF8(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh\xff", "abcdefghé", "é",
		"abcdefghijklmnopé", "\xffabcdefgh", "日本語テキスト", "abc\xed\xa0\x80", "0123456789abcdef\xc3"} {
		assert.Equal(t, utf8.ValidString(s), validUTF8(s), "%q", s)
	}
}

func TestCloseLen(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, 1 << 21} {
		for reserve := 1; reserve <= 3; reserve++ {
			body := make([]byte, n)
			for i := range body {
				body[i] = byte(i)
			}
			b, start := openLen([]byte{0xaa}, reserve)
			b = append(b, body...)
			b = closeLen(b, start, reserve)
			want := protowireAppendLen([]byte{0xaa}, body)
			require.Equal(t, want, b, "n=%d reserve=%d", n, reserve)
		}
	}
}

var _ = coltracepb.ExportTraceServiceRequest{}

// validUTF8 agrees with utf8.ValidString for every length around its word
// and double-word steps, with a multi-byte rune, a stray continuation byte
// or a truncated sequence at every position.
func TestValidUTF8EveryPosition(t *testing.T) {
	for n := 0; n <= 40; n++ {
		ascii := strings.Repeat("a", n)
		assert.True(t, validUTF8(ascii), "ascii %d", n)
		for i := 0; i < n; i++ {
			for _, ins := range []string{"é", "\x80", "\xe2\x82", "€"} {
				s := ascii[:i] + ins + ascii[i:]
				assert.Equal(t, utf8.ValidString(s), validUTF8(s), "%q", s)
			}
		}
	}
}
