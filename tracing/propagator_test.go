package tracing

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func h1SpanContext(sampled bool) trace.SpanContext {
	tid, _ := trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	sid, _ := trace.SpanIDFromHex(h1Parent)
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}

func TestInject(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sc      trace.SpanContext
		want    string
		wantSet bool
	}{
		{"sampled", h1SpanContext(true), h1, true},
		{"T13 unsampled", h1SpanContext(false), "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=0", true},
		{"invalid span context", trace.SpanContext{}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			ctx := trace.ContextWithSpanContext(context.Background(), tc.sc)
			XRayPropagator{}.Inject(ctx, propagation.HeaderCarrier(hdr))
			assert.Equal(t, tc.want, hdr.Get(HeaderName))
			_, set := hdr[HeaderName]
			assert.Equal(t, tc.wantSet, set)
		})
	}
}

// TestForwardThroughServer: the outbound header of a client call inside a
// server span carries the new parent, the decision, Lineage and custom
// fields, and drops Self.
func TestForwardThroughServer(t *testing.T) {
	in := "Self=1-67891233-12456789abcdef012345678;Root=" + h1Root + ";CalledFrom=app;Lineage=a87bd80c:1|68fd508a:5"
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: in})
	tp := newTP(sdktrace.AlwaysSample())
	ctx, server := tp.Tracer("t").Start(ctx, "server")
	defer server.End()
	ctx, client := tp.Tracer("t").Start(ctx, "client")
	defer client.End()

	out := propagation.MapCarrier{}
	XRayPropagator{}.Inject(ctx, out)
	want := "Root=" + h1Root + ";Parent=" + client.SpanContext().SpanID().String() +
		";Sampled=1;Lineage=a87bd80c:1|68fd508a:5;CalledFrom=app"
	assert.Equal(t, want, out[HeaderName])

	// A span of another trace never gets this header's extras.
	_, other := tp.Tracer("t").Start(ctx, "new root", trace.WithNewRoot())
	out = propagation.MapCarrier{}
	XRayPropagator{}.Inject(trace.ContextWithSpan(ctx, other), out)
	assert.NotContains(t, out[HeaderName], "CalledFrom")
	assert.NotContains(t, out[HeaderName], h1Root)
}

func TestInjectNeverExceeds256(t *testing.T) {
	var b strings.Builder
	b.WriteString(h1)
	for i := 0; i < 7; i++ {
		b.WriteString(";Custom")
		b.WriteByte(byte('A' + i))
		b.WriteByte('=')
		b.WriteString(strings.Repeat("v", 40))
	}
	b.WriteString(";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2")
	h, ok := ParseHeader(b.String())
	require.True(t, ok)
	require.Greater(t, len(b.String()), MaxHeaderLen)

	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: b.String()})
	ctx, span := newTP(sdktrace.AlwaysSample()).Tracer("t").Start(ctx, "s")
	defer span.End()
	out := propagation.MapCarrier{}
	XRayPropagator{}.Inject(ctx, out)
	got := out[HeaderName]
	assert.LessOrEqual(t, len(got), MaxHeaderLen)
	assert.True(t, strings.HasPrefix(got, "Root="+h1Root+";Parent="+span.SpanContext().SpanID().String()+";Sampled=1;Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2;CustomA="), got)
	assert.NotContains(t, got, "CustomG", "the fields that do not fit are dropped")
	assert.LessOrEqual(t, len(h.String()), MaxHeaderLen)
}

func TestResponseHeader(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		rootSamples bool
		want        string // %P = incoming parent
	}{
		{"requested sampled", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?", true, "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=1"},
		{"requested not sampled", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?", false, "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=0"},
		{"explicit echoed", h1, false, h1},
		{"absent stays absent", "Root=" + h1Root + ";Parent=" + h1Parent, true, "Root=" + h1Root + ";Parent=" + h1Parent},
		{"root only requested", "Root=" + h1Root + ";Sampled=?;Lineage=x:1", true, "Root=" + h1Root + ";Sampled=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: tc.in})
			root := sdktrace.NeverSample()
			if tc.rootSamples {
				root = sdktrace.AlwaysSample()
			}
			ctx, span := newTP(root).Tracer("t").Start(ctx, "server")
			defer span.End()
			var buf [MaxHeaderLen]byte
			assert.Equal(t, tc.want, string(appendResponseHeader(buf[:0], ctx)))
			h, ok := IncomingHeader(ctx)
			require.True(t, ok)
			assert.Equal(t, tc.want, string(h.AppendResponse(nil, span.SpanContext())))
		})
	}
	t.Run("no incoming header", func(t *testing.T) {
		ctx, span := newTP(sdktrace.AlwaysSample()).Tracer("t").Start(context.Background(), "server")
		defer span.End()
		got := string(appendResponseHeader(nil, ctx))
		assert.Equal(t, "Root="+XRayTraceID(ctx), got)
		assert.Empty(t, appendResponseHeader(nil, context.Background()))
	})
}

// TestWithNewRootIgnoresRootOnlyHeader: WithNewRoot must start a new trace
// even though the ID generator can see the extracted Root-only header.
func TestWithNewRootIgnoresRootOnlyHeader(t *testing.T) {
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root})
	tp := newTP(sdktrace.AlwaysSample())
	_, cont := tp.Tracer("t").Start(ctx, "continue")
	_, fresh := tp.Tracer("t").Start(ctx, "fresh", trace.WithNewRoot())
	assert.Equal(t, "5759e988bd862e3fe1be46a994272793", cont.SpanContext().TraceID().String())
	assert.NotEqual(t, cont.SpanContext().TraceID(), fresh.SpanContext().TraceID())
}

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestCompositeOrder(t *testing.T) {
	p := NewPropagator()
	for _, tc := range []struct {
		name               string
		xray, tp           string
		wantTrace, wantPar string
	}{
		{"xray with parent wins", h1, traceparent, "5759e988bd862e3fe1be46a994272793", h1Parent},
		{"root-only yields to traceparent", "Root=" + h1Root, traceparent, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{"traceparent alone", "", traceparent, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{"root-only alone continues", "Root=" + h1Root, "", "5759e988bd862e3fe1be46a994272793", ""},
		{"malformed xray keeps traceparent", "Root=garbage;Parent=" + h1Parent, traceparent, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			if tc.xray != "" {
				hdr.Set(HeaderName, tc.xray)
			}
			if tc.tp != "" {
				hdr.Set("traceparent", tc.tp)
			}
			ctx := p.Extract(context.Background(), propagation.HeaderCarrier(hdr))
			_, span := newTP(sdktrace.AlwaysSample()).Tracer("t").Start(ctx, "server")
			ro := span.(sdktrace.ReadOnlySpan)
			assert.Equal(t, tc.wantTrace, span.SpanContext().TraceID().String())
			if tc.wantPar == "" {
				assert.False(t, ro.Parent().IsValid())
			} else {
				assert.Equal(t, tc.wantPar, ro.Parent().SpanID().String())
			}
		})
	}
}

func TestParsePropagators(t *testing.T) {
	hdr := func(p propagation.TextMapPropagator) http.Header {
		h := http.Header{}
		ctx := trace.ContextWithSpanContext(context.Background(), h1SpanContext(true))
		m, _ := baggage.NewMember("k", "v")
		b, _ := baggage.New(m)
		p.Inject(baggage.ContextWithBaggage(ctx, b), propagation.HeaderCarrier(h))
		return h
	}
	for _, tc := range []struct {
		name    string
		names   []string
		fields  []string // headers injected
		wantErr bool
	}{
		{"default", nil, []string{"Baggage", "Traceparent", HeaderName}, false},
		{"empty strings", []string{"", " "}, []string{"Baggage", "Traceparent", HeaderName}, false},
		{"xray only", []string{"XRay"}, []string{HeaderName}, false},
		{"xray-lambda alias", []string{"xray-lambda"}, []string{HeaderName}, false},
		{"w3c", []string{"tracecontext", "baggage", "tracecontext"}, []string{"Baggage", "Traceparent"}, false},
		{"none", []string{"none"}, nil, false},
		{"unknown ignored", []string{"b3", "xray"}, []string{HeaderName}, true},
		{"only unknown falls back to default", []string{"b3multi"}, []string{"Baggage", "Traceparent", HeaderName}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePropagators(tc.names...)
			assert.Equal(t, tc.wantErr, err != nil, err)
			var got []string
			for k := range hdr(p) {
				got = append(got, k)
			}
			assert.ElementsMatch(t, tc.fields, got)
		})
	}
	assert.NotNil(t, NewPropagator("b3"))
}

// appendResponseHeader is what a server appends as its X-Amzn-Trace-Id
// response value (the middleware's internal/mwcore.AppendTraceHeader, which
// this package cannot import): the incoming header's AppendResponse with
// the server span, Root=<trace id> without an incoming header.
func appendResponseHeader(dst []byte, ctx context.Context) []byte {
	if ctx == nil {
		return dst
	}
	in, _ := IncomingHeader(ctx)
	return in.AppendResponse(dst, trace.SpanContextFromContext(ctx))
}
