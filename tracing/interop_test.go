package tracing

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-xray-sdk-go/header"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/xrayid"
)

// TestInteropParseXRaySDKHeaders: headers built by aws-xray-sdk-go's header
// package (including its ";;" for an unknown decision) parse the same.
func TestInteropParseXRaySDKHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    header.Header
		want Decision
	}{
		{"sampled", header.Header{TraceID: h1Root, ParentID: h1Parent, SamplingDecision: header.Sampled}, DecisionSampled},
		{"not sampled", header.Header{TraceID: h1Root, ParentID: h1Parent, SamplingDecision: header.NotSampled}, DecisionNotSampled},
		{"requested", header.Header{TraceID: h1Root, ParentID: h1Parent, SamplingDecision: header.Requested}, DecisionRequested},
		{"unknown emits ;;", header.Header{TraceID: h1Root, ParentID: h1Parent, SamplingDecision: header.Unknown,
			AdditionalData: map[string]string{"Lineage": "a87bd80c:1"}}, DecisionNone},
		{"root only", header.Header{TraceID: h1Root, SamplingDecision: header.Sampled}, DecisionSampled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.h.String()
			got, ok := ParseHeader(s)
			require.True(t, ok, s)
			assert.Equal(t, tc.h.TraceID, xrayid.FormatTraceID(got.TraceID))
			if tc.h.ParentID != "" {
				assert.Equal(t, tc.h.ParentID, got.ParentID.String())
			} else {
				assert.False(t, got.ParentID.IsValid())
			}
			assert.Equal(t, tc.want, got.Sampled)
			for k, v := range tc.h.AdditionalData {
				gv, ok := got.Lookup(k)
				assert.True(t, ok)
				assert.Equal(t, v, gv)
			}
		})
	}
}

// TestInteropXRaySDKParsesOurs: what we inject and return is read back by
// aws-xray-sdk-go's parser with the same values.
func TestInteropXRaySDKParsesOurs(t *testing.T) {
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{
		HeaderName: "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?;Lineage=a87bd80c:1|68fd508a:5;CalledFrom=app",
	})
	tp := newTP(sdktrace.AlwaysSample())
	ctx, server := tp.Tracer("t").Start(ctx, "server")
	defer server.End()
	ctx, client := tp.Tracer("t").Start(ctx, "client")
	defer client.End()

	out := propagation.MapCarrier{}
	XRayPropagator{}.Inject(ctx, out)
	h := header.FromString(out[HeaderName])
	assert.Equal(t, h1Root, h.TraceID)
	assert.Equal(t, client.SpanContext().SpanID().String(), h.ParentID)
	assert.Equal(t, header.Sampled, h.SamplingDecision)
	assert.Equal(t, map[string]string{"Lineage": "a87bd80c:1|68fd508a:5", "CalledFrom": "app"}, h.AdditionalData)

	resp := header.FromString(string(appendResponseHeader(nil, ctx)))
	assert.Equal(t, h1Root, resp.TraceID)
	assert.Equal(t, h1Parent, resp.ParentID)
	assert.Equal(t, header.Sampled, resp.SamplingDecision)
}

// quietXRay points aws-xray-sdk-go's emitter at a loopback UDP socket we
// own (and drain), so its segments go nowhere else.
func quietXRay(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	require.NoError(t, xray.Configure(xray.Config{DaemonAddr: pc.LocalAddr().String(), ServiceVersion: "test"}))
}

// TestInteropXRayClientToOurServer: the header aws-xray-sdk-go's
// instrumented client sends is continued by our propagator.
func TestInteropXRayClientToOurServer(t *testing.T) {
	quietXRay(t)
	spans := make(chan sdktrace.ReadOnlySpan, 1)
	tp := newTP(sdktrace.NeverSample())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := NewPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		_, span := tp.Tracer("t").Start(ctx, "server")
		span.End()
		ro, _ := span.(sdktrace.ReadOnlySpan)
		spans <- ro
	}))
	defer srv.Close()

	ctx, seg := xray.BeginSegment(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := xray.Client(srv.Client()).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	seg.Close(nil)

	got := <-spans
	require.NotNil(t, got, "sampled by the caller, so recorded despite NeverSample root")
	assert.Equal(t, seg.TraceID, xrayid.FormatTraceID(got.SpanContext().TraceID()))
	assert.True(t, got.Parent().IsRemote())
	// The parent is the client subsegment xray.Client created under seg.
	assert.NotEqual(t, seg.ID, got.Parent().SpanID().String(), "parent is the client subsegment, not the segment")
	assert.True(t, got.SpanContext().IsSampled())
}

// TestInteropOurClientToXRayHandler: the header we inject is accepted by
// aws-xray-sdk-go's server handler with the same trace id and parent.
func TestInteropOurClientToXRayHandler(t *testing.T) {
	quietXRay(t)
	type seen struct{ trace, parent string }
	ch := make(chan seen, 1)
	srv := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("callee"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg := xray.GetSegment(r.Context())
		ch <- seen{seg.TraceID, seg.ParentID}
	})))
	defer srv.Close()

	tp := newTP(sdktrace.AlwaysSample())
	ctx, span := tp.Tracer("t").Start(context.Background(), "client")
	defer span.End()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	NewPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	s := <-ch
	assert.Equal(t, XRayTraceID(ctx), s.trace)
	assert.Equal(t, span.SpanContext().SpanID().String(), s.parent)
	// Its response header echoes the trace.
	assert.Contains(t, resp.Header.Get(HeaderName), "Root="+XRayTraceID(ctx))
}
