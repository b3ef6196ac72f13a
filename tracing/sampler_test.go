package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceIDRatio(t *testing.T) {
	const n = 200000
	for _, f := range []float64{0, 0.05, 0.5, 1} {
		s := traceIDRatio(f)
		sampled := 0
		for i := 0; i < n; i++ {
			var tid trace.TraceID
			binary.BigEndian.PutUint32(tid[:4], 0x5759e988) // one second: all ids share it
			binary.LittleEndian.PutUint64(tid[4:12], rand.Uint64())
			binary.LittleEndian.PutUint32(tid[12:], rand.Uint32())
			if s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: tid}).Decision == sdktrace.RecordAndSample {
				sampled++
			}
		}
		got := float64(sampled) / n
		assert.InDelta(t, f, got, 0.01, "fraction %v", f)
	}
	assert.Equal(t, "XRayTraceIDRatio{0.05}", traceIDRatio(0.05).Description())
	assert.Equal(t, "XRayTraceIDRatio{0}", traceIDRatio(-1).Description())
	assert.Equal(t, "XRayTraceIDRatio{1}", traceIDRatio(7).Description())
}

func TestTraceIDRatioIgnoresTimestamp(t *testing.T) {
	s := traceIDRatio(0.5)
	for i := 0; i < 1000; i++ {
		var a trace.TraceID
		binary.LittleEndian.PutUint64(a[4:12], rand.Uint64())
		binary.LittleEndian.PutUint32(a[12:], rand.Uint32())
		b := a
		binary.BigEndian.PutUint32(a[:4], rand.Uint32())
		binary.BigEndian.PutUint32(b[:4], rand.Uint32())
		da := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: a}).Decision
		db := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: b}).Decision
		require.Equal(t, da, db)
	}
	// ...but every random byte matters.
	for byteIdx := 4; byteIdx < 16; byteIdx++ {
		changed := false
		for i := 0; i < 200 && !changed; i++ {
			var a trace.TraceID
			binary.LittleEndian.PutUint64(a[4:12], rand.Uint64())
			binary.LittleEndian.PutUint32(a[12:], rand.Uint32())
			b := a
			b[byteIdx] ^= 0x80
			changed = ratioKey(a) != ratioKey(b)
		}
		assert.True(t, changed, "byte %d not used", byteIdx)
	}
}

func TestParentBasedDecisions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		root   bool // root sampler's answer
		want   bool
	}{
		{"no header root on", "", true, true},
		{"no header root off", "", false, false},
		{"sampled parent", h1, false, true},
		{"unsampled parent", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=0", true, false},
		{"requested parent root on", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?", true, true},
		{"requested parent root off", "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?", false, false},
		{"absent parent root on", "Root=" + h1Root + ";Parent=" + h1Parent, true, true},
		{"root only sampled", "Root=" + h1Root + ";Sampled=1", false, true},
		{"root only unsampled", "Root=" + h1Root + ";Sampled=0", true, false},
		{"root only no decision", "Root=" + h1Root, true, true},
		{"root only no decision off", "Root=" + h1Root, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := sdktrace.NeverSample()
			if tc.root {
				root = sdktrace.AlwaysSample()
			}
			ctx := context.Background()
			if tc.header != "" {
				ctx = XRayPropagator{}.Extract(ctx, propagation.MapCarrier{HeaderName: tc.header})
			}
			res := ParentBased(root).ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx})
			assert.Equal(t, tc.want, res.Decision == sdktrace.RecordAndSample)
		})
	}
	// Options still apply: a root-only Sampled=1 goes through WithRemoteParentSampled.
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root + ";Sampled=1"})
	s := ParentBased(sdktrace.AlwaysSample(), sdktrace.WithRemoteParentSampled(sdktrace.NeverSample()))
	assert.Equal(t, sdktrace.Drop, s.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx}).Decision)
	assert.Contains(t, s.Description(), "XRayParentBased{ParentBased{root:AlwaysOnSampler")
	assert.Contains(t, ParentBased(nil).Description(), "XRayTraceIDRatio{0.05}")
}

func TestSamplerFromName(t *testing.T) {
	xrayRoot := sdktrace.AlwaysSample()
	for _, tc := range []struct {
		name, arg string
		desc      string
		wantErr   bool
	}{
		{"", "", "XRayParentBased{ParentBased{root:AlwaysOnSampler", false},
		{"xray", "", "XRayParentBased{ParentBased{root:AlwaysOnSampler", false},
		{"always_on", "", "AlwaysOnSampler", false},
		{" Always_Off ", "", "AlwaysOffSampler", false},
		{"traceidratio", "0.25", "XRayTraceIDRatio{0.25}", false},
		{"traceidratio", "", "XRayTraceIDRatio{1}", false},
		{"traceidratio", "abc", "XRayTraceIDRatio{1}", true},
		{"traceidratio", "1.5", "XRayTraceIDRatio{1}", true},
		{"parentbased_always_on", "", "XRayParentBased{ParentBased{root:AlwaysOnSampler", false},
		{"parentbased_always_off", "", "XRayParentBased{ParentBased{root:AlwaysOffSampler", false},
		{"parentbased_traceidratio", "0.1", "XRayParentBased{ParentBased{root:XRayTraceIDRatio{0.1}", false},
		{"jaeger_remote", "", "XRayParentBased{ParentBased{root:AlwaysOnSampler", true},
	} {
		t.Run(tc.name+"/"+tc.arg, func(t *testing.T) {
			s, err := SamplerFromName(tc.name, tc.arg, xrayRoot)
			require.NotNil(t, s)
			assert.Equal(t, tc.wantErr, err != nil, err)
			assert.Contains(t, s.Description(), tc.desc)
		})
	}
	s, err := SamplerFromName("xray", "", nil)
	require.NoError(t, err)
	assert.Contains(t, s.Description(), "XRayTraceIDRatio{0.05}")
}

// TestParentBasedKeepsTraceIDThroughProvider: Sampled=? with a Parent, a
// real provider, and the root sampler deciding while the trace id is kept.
func TestParentBasedKeepsTraceIDThroughProvider(t *testing.T) {
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?"})
	_, span := newTP(sdktrace.AlwaysSample()).Tracer("t").Start(ctx, "s")
	assert.True(t, span.SpanContext().IsSampled())
	assert.True(t, span.IsRecording())
	assert.Equal(t, "5759e988bd862e3fe1be46a994272793", span.SpanContext().TraceID().String())
	// The contrib-style behaviour (SDK ParentBased) would have dropped it:
	_, span2 := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))).Tracer("t").Start(ctx, "s")
	assert.False(t, span2.SpanContext().IsSampled())
}
