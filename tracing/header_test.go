package tracing

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/xrayid"
)

const (
	h1Root   = "1-5759e988-bd862e3fe1be46a994272793"
	h1Parent = "53995c3f42cd8ad8"
	h1       = "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=1"
)

// conformance holds the vectors H1–H13 of xray.md §10.
var conformance = []struct {
	name     string
	in       string
	ok       bool     // header accepted (trace continued)
	parent   string   // "" = no parent
	decision Decision // upstream decision
	forward  string   // Header.String(): what we forward (Parent = incoming here)
}{
	{"H1 full", h1, true, h1Parent, DecisionSampled, h1},
	{"H2 not sampled", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=0", true, h1Parent, DecisionNotSampled,
		"Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=0"},
	{"H3 requested", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?", true, h1Parent, DecisionRequested,
		"Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?"},
	{"H4 root only sampled", "Root=" + h1Root + ";Sampled=1", true, "", DecisionSampled, "Root=" + h1Root + ";Sampled=1"},
	{"H5 ALB self and custom", "Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;CalledFrom=app",
		true, "", DecisionNone, "Root=1-67891233-abcdef012345678912345678;CalledFrom=app"},
	{"H6 spaces", "Root=" + h1Root + "; Parent=" + h1Parent + "; Sampled=1", true, h1Parent, DecisionSampled, h1},
	{"H7 lowercase keys", "root=" + h1Root + ";parent=" + h1Parent + ";sampled=1", false, "", DecisionNone, ""},
	{"H8 order", "Sampled=1;Parent=" + h1Parent + ";Root=" + h1Root, true, h1Parent, DecisionSampled, h1},
	{"H9 lineage", h1 + ";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2", true, h1Parent, DecisionSampled,
		h1 + ";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2"},
	{"H10 bad version", "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=" + h1Parent + ";Sampled=1", false, "", DecisionNone, ""},
	{"H11 upper hex", "Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=" + h1Parent + ";Sampled=1", true, h1Parent, DecisionSampled, h1},
	{"H12 field without =", h1 + ";Foo", true, h1Parent, DecisionSampled, h1},
	{"H13 zero root", "Root=1-00000000-000000000000000000000000;Parent=" + h1Parent + ";Sampled=1", false, "", DecisionNone, ""},
	// Further tolerance cases.
	{"spaces around =", " Root = " + h1Root + " ;\tParent= " + h1Parent + " ; Sampled =1 ;", true, h1Parent, DecisionSampled, h1},
	{"no sampled", "Root=" + h1Root + ";Parent=" + h1Parent, true, h1Parent, DecisionNone, "Root=" + h1Root + ";Parent=" + h1Parent},
	{"garbage sampled", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=yes", true, h1Parent, DecisionNone, "Root=" + h1Root + ";Parent=" + h1Parent},
	{"bad parent", "Root=" + h1Root + ";Parent=53995c3f42cd8ad;Sampled=1", false, "", DecisionNone, ""},
	{"zero parent", "Root=" + h1Root + ";Parent=0000000000000000;Sampled=1", false, "", DecisionNone, ""},
	{"no root", "Parent=" + h1Parent + ";Sampled=1", false, "", DecisionNone, ""},
	{"empty", "", false, "", DecisionNone, ""},
	{"only separators", ";;; ;", false, "", DecisionNone, ""},
	{"oversized", h1 + ";X=" + strings.Repeat("a", MaxInboundHeaderLen), false, "", DecisionNone, ""},
	{"duplicate root keeps first", h1 + ";Root=1-11111111-111111111111111111111111", true, h1Parent, DecisionSampled, h1},
	{"unsafe extras dropped", h1 + ";A=b c;B=\x01;C=;=v;D\u00e9=x;E=ok", true, h1Parent, DecisionSampled, h1 + ";E=ok"},
}

func TestParseHeaderConformance(t *testing.T) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := ParseHeader(tc.in)
			require.Equal(t, tc.ok, ok)
			if !ok {
				assert.Equal(t, Header{}, h)
				return
			}
			assert.Equal(t, tc.decision, h.Sampled)
			if tc.parent == "" {
				assert.False(t, h.ParentID.IsValid())
			} else {
				assert.Equal(t, tc.parent, h.ParentID.String())
			}
			assert.Equal(t, tc.forward, h.String())
			assert.LessOrEqual(t, len(h.String()), MaxHeaderLen)
		})
	}
}

func TestHeaderLookup(t *testing.T) {
	h, ok := ParseHeader("Self=1-2-3;Root=" + h1Root + ";Lineage=a87bd80c:1;CalledFrom = app")
	require.True(t, ok)
	v, ok := h.Lookup("Lineage")
	assert.True(t, ok)
	assert.Equal(t, "a87bd80c:1", v)
	v, _ = h.Lookup("CalledFrom")
	assert.Equal(t, "app", v)
	for _, k := range []string{"Self", "Root", "lineage"} {
		_, ok = h.Lookup(k)
		assert.False(t, ok, k)
	}
}

// newTP returns a real SDK provider with our generator and sampler.
func newTP(root sdktrace.Sampler) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(NewIDGenerator()),
		sdktrace.WithSampler(ParentBased(root)),
	)
}

// recordOnly records without sampling, so tests can inspect unsampled spans.
type recordOnly struct{}

func (recordOnly) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}
func (recordOnly) Description() string { return "recordOnly" }

// newInspectTP is newTP where "not sampled" still records (RecordOnly).
func newInspectTP(rootSamples bool) *sdktrace.TracerProvider {
	var root sdktrace.Sampler = recordOnly{}
	if rootSamples {
		root = sdktrace.AlwaysSample()
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(NewIDGenerator()),
		sdktrace.WithSampler(ParentBased(root,
			sdktrace.WithRemoteParentNotSampled(recordOnly{}),
			sdktrace.WithLocalParentNotSampled(recordOnly{}))),
	)
}

// TestExtractConformance runs H1–H13 through the propagator and a real
// TracerProvider: trace continuity, parent, and who made the decision.
func TestExtractConformance(t *testing.T) {
	for _, tc := range conformance {
		for _, rootSamples := range []bool{false, true} {
			name := tc.name + "/root=off"
			if rootSamples {
				name = tc.name + "/root=on"
			}
			t.Run(name, func(t *testing.T) {
				hdr := http.Header{}
				hdr.Set(HeaderName, tc.in)
				ctx := XRayPropagator{}.Extract(context.Background(), propagation.HeaderCarrier(hdr))
				_, span := newInspectTP(rootSamples).Tracer("t").Start(ctx, "server")
				sc := span.SpanContext()
				require.True(t, sc.IsValid())
				ro := span.(sdktrace.ReadOnlySpan)

				in, _ := ParseHeader(tc.in)
				if tc.ok {
					assert.Equal(t, in.TraceID, sc.TraceID(), "trace continued")
				} else {
					hdrTID, _ := xrayid.ParseTraceID(h1Root)
					assert.NotEqual(t, hdrTID, sc.TraceID(), "new trace")
				}
				if tc.parent != "" {
					assert.Equal(t, tc.parent, ro.Parent().SpanID().String())
					assert.True(t, ro.Parent().IsRemote())
				} else {
					assert.False(t, ro.Parent().IsValid(), "root span")
					assert.False(t, ro.Parent().SpanID().IsValid())
				}
				want := rootSamples // no decision: local root sampler decides
				switch tc.decision {
				case DecisionSampled:
					want = true
				case DecisionNotSampled:
					want = false
				}
				assert.Equal(t, want, sc.IsSampled(), "sampling decision")
			})
		}
	}
}

func TestExtractLowercaseCarrier(t *testing.T) {
	// gRPC metadata keys are lowercase and its carrier does not canonicalise.
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{"x-amzn-trace-id": h1})
	sc := trace.SpanContextFromContext(ctx)
	assert.True(t, sc.IsValid())
	assert.True(t, sc.IsRemote())
	assert.True(t, sc.IsSampled())
	assert.Equal(t, h1Parent, sc.SpanID().String())
}

func TestExtractNilsDoNotPanic(t *testing.T) {
	p := XRayPropagator{}
	assert.NotPanics(t, func() {
		//lint:ignore SA1012 nil context on purpose
		ctx := p.Extract(nil, propagation.MapCarrier{HeaderName: h1})
		assert.NotNil(t, ctx)
		p.Extract(context.Background(), nil)
		//lint:ignore SA1012 nil context on purpose
		p.Inject(nil, propagation.MapCarrier{})
		p.Inject(ctx, nil)
	})
}

func TestIncomingHeaderVisibleBelowServerSpan(t *testing.T) {
	hdr := http.Header{}
	hdr.Set(HeaderName, "Root="+h1Root+";Parent="+h1Parent+";Sampled=?;Lineage=a87bd80c:1")
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.HeaderCarrier(hdr))
	ctx, span := newTP(sdktrace.AlwaysSample()).Tracer("t").Start(ctx, "server")
	defer span.End()
	ctx, cancel := context.WithCancel(ctx) // other context layers in between
	defer cancel()

	h, ok := IncomingHeader(ctx)
	require.True(t, ok)
	assert.Equal(t, DecisionRequested, h.Sampled)
	assert.Equal(t, h1Parent, h.ParentID.String())

	_, ok = IncomingHeader(context.Background())
	assert.False(t, ok)
}

func TestExtractedContextKeepsCancellation(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx := XRayPropagator{}.Extract(parent, propagation.MapCarrier{HeaderName: h1})
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.Canceled)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}
