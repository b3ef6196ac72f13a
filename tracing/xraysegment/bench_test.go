package xraysegment

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// typicalServerSpan is what the HTTP middleware produces for one request:
// ≈10 attributes on an ECS resource.
func typicalServerSpan() sdktrace.ReadOnlySpan {
	s := stub(trace.SpanKindServer, remoteParent(),
		attribute.String("http.request.method", "GET"),
		attribute.String("url.scheme", "https"),
		attribute.String("server.address", "api.example.com"),
		attribute.String("url.path", "/orders/42"),
		attribute.String("http.route", "/orders/{id}"),
		attribute.Int("http.response.status_code", 200),
		attribute.String("client.address", "203.0.113.7"),
		attribute.String("network.peer.address", "10.0.1.23"),
		attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
		attribute.Int("http.response.body.size", 1234),
		attribute.String("network.protocol.version", "1.1"),
	)
	s.Name = "GET /orders/{id}"
	s.Resource = ecsResource()
	return s.Snapshot()
}

func typicalClientSpan() sdktrace.ReadOnlySpan {
	return stub(trace.SpanKindClient, localParent(),
		attribute.String("http.request.method", "POST"),
		attribute.String("peer.service", "payments"),
		attribute.String("url.full", "https://payments.internal/charge"),
		attribute.String("server.address", "payments.internal"),
		attribute.Int("http.response.status_code", 502),
	).Snapshot()
}

func BenchmarkAppendSegment(b *testing.B) {
	for _, bc := range []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{{"server", typicalServerSpan()}, {"client", typicalClientSpan()}} {
		b.Run(bc.name, func(b *testing.B) {
			enc := NewEncoder(Config{DisableResourceMetadata: true})
			buf := appendDatagram(enc, nil, bc.span)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = appendDatagram(enc, buf[:0], bc.span)
			}
		})
	}
	b.Run("server+resource-metadata", func(b *testing.B) {
		enc := NewEncoder(Config{})
		span := typicalServerSpan()
		buf := appendDatagram(enc, nil, span)
		b.ReportAllocs()
		for b.Loop() {
			buf = appendDatagram(enc, buf[:0], span)
		}
	})
	b.Run("server+indexed", func(b *testing.B) { // as the SDK configures it
		enc := NewEncoder(Config{DisableResourceMetadata: true, IndexedAttributes: []string{"http.request.id", "tenant.id"}})
		span := typicalServerSpan()
		buf := appendDatagram(enc, nil, span)
		b.ReportAllocs()
		for b.Loop() {
			buf = appendDatagram(enc, buf[:0], span)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		enc := NewEncoder(Config{DisableResourceMetadata: true})
		span := typicalServerSpan()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var buf []byte
			for pb.Next() {
				buf = appendDatagram(enc, buf[:0], span)
			}
		})
	})
}
