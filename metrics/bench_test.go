package metrics

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/o11y-go/o11y/internal/reqstate"
)

func benchRecorder(b *testing.B) *Recorder {
	r := New(Options{Namespace: "Svc", ServiceName: "orders", FlushInterval: -1, Writer: io.Discard})
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r
}

// BenchmarkObserve records one request's three metrics (Latency, Error,
// Fault) in aggregated mode.
func BenchmarkObserve(b *testing.B) {
	r := benchRecorder(b)
	op := r.Operation("GET /orders/{id}")
	ctx := reqstate.With(spanCtx("5759e988bd862e3fe1be46a994272793", true), &reqstate.State{RequestID: "r"})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		op.Observe(ctx, time.Duration(i%5000)*time.Microsecond, 0)
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	r := benchRecorder(b)
	op := r.Operation("GET /orders/{id}")
	ctx := reqstate.With(spanCtx("5759e988bd862e3fe1be46a994272793", true), &reqstate.State{RequestID: "r"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			op.Observe(ctx, time.Duration(i%5000)*time.Microsecond, 0)
		}
	})
}

// BenchmarkOperationAndObserve includes the per-request handle lookup.
func BenchmarkOperationAndObserve(b *testing.B) {
	r := benchRecorder(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.Operation("GET /orders/{id}").Observe(ctx, time.Duration(i%5000)*time.Microsecond, 0)
	}
}

// BenchmarkFlush1000 encodes a flush of 1,000 series (200 operations ×
// Latency/Error/Fault with wide latency distributions, plus 400 per-event
// metrics) — measured per flush.
func BenchmarkFlush1000Series(b *testing.B) {
	r := New(Options{Namespace: "Svc", ServiceName: "orders", FlushInterval: -1, Writer: io.Discard, MaxOperations: 334})
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	ops := make([]*Operation, 334) // 334 × 3 metrics ≈ 1,000 series
	for i := range ops {
		ops[i] = r.Operation(fmt.Sprintf("GET /route/%d", i))
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i, op := range ops {
			for j := 0; j < 20; j++ {
				op.Observe(ctx, time.Duration(i*j+1)*37*time.Microsecond, Flags(j%3))
			}
		}
		b.StartTimer()
		_ = r.Flush(ctx)
	}
}
