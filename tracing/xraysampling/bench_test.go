package xraysampling

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func BenchmarkShouldSample(b *testing.B) {
	s, err := New(Options{Rules: []byte(`{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[
		{"description":"health","http_method":"GET","url_path":"/health*","fixed_target":0,"rate":0},
		{"description":"api","host":"*.example.com","http_method":"*","url_path":"/api/*","fixed_target":5,"rate":0.1}]}`)})
	if err != nil {
		b.Fatal(err)
	}
	p := httpParams("POST", "/api/orders/1", "shop.example.com")
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ShouldSample(p)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.ShouldSample(p)
			}
		})
	})
	b.Run("sdk-traceidratio", func(b *testing.B) { // reference point
		ratio := sdktrace.TraceIDRatioBased(0.05)
		b.ReportAllocs()
		for b.Loop() {
			ratio.ShouldSample(p)
		}
	})
}
