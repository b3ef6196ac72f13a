package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func benchExtract(b *testing.B, p propagation.TextMapPropagator, header string) {
	hdr := http.Header{}
	hdr.Set(HeaderName, header)
	c := propagation.HeaderCarrier(hdr)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if !trace.SpanContextFromContext(p.Extract(ctx, c)).IsValid() {
			b.Fatal("not extracted")
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	b.Run("ours", func(b *testing.B) { benchExtract(b, XRayPropagator{}, h1) })
	b.Run("contrib", func(b *testing.B) { benchExtract(b, xray.Propagator{}, h1) })
	b.Run("ours/lineage", func(b *testing.B) { benchExtract(b, XRayPropagator{}, h1+";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2") })
	b.Run("contrib/lineage", func(b *testing.B) { benchExtract(b, xray.Propagator{}, h1+";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2") })
}

func benchInject(b *testing.B, p propagation.TextMapPropagator) {
	ctx := trace.ContextWithSpanContext(context.Background(), h1SpanContext(true))
	hdr := http.Header{}
	c := propagation.HeaderCarrier(hdr)
	b.ReportAllocs()
	for b.Loop() {
		p.Inject(ctx, c)
	}
}

func BenchmarkInject(b *testing.B) {
	b.Run("ours", func(b *testing.B) { benchInject(b, XRayPropagator{}) })
	b.Run("contrib", func(b *testing.B) { benchInject(b, xray.Propagator{}) })
}

func BenchmarkResponseHeader(b *testing.B) {
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?"})
	ctx = trace.ContextWithSpanContext(ctx, h1SpanContext(true))
	var buf [MaxHeaderLen]byte
	b.ReportAllocs()
	for b.Loop() {
		appendResponseHeader(buf[:0], ctx)
	}
}

func benchIDs(b *testing.B, g sdktrace.IDGenerator) {
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g.NewIDs(ctx)
		}
	})
}

func BenchmarkNewIDs(b *testing.B) {
	b.Run("ours", func(b *testing.B) { benchIDs(b, NewIDGenerator()) })
	b.Run("contrib", func(b *testing.B) { benchIDs(b, xray.NewIDGenerator()) })
}

func BenchmarkParentBased(b *testing.B) {
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root + ";Parent=" + h1Parent + ";Sampled=?"})
	s := ParentBased(traceIDRatio(0.05))
	p := sdktrace.SamplingParameters{ParentContext: ctx, TraceID: h1SpanContext(true).TraceID()}
	b.ReportAllocs()
	for b.Loop() {
		s.ShouldSample(p)
	}
}
