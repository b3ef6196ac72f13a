package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// benchAttrs is the workload for every handler: a span in ctx, a message and
// five attrs of common kinds.
func benchLog(b *testing.B, l *slog.Logger, ctx context.Context) {
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request handled",
			slog.String("route", "/orders/{id}"), slog.Int("status", 200), slog.Bool("cache_hit", true),
			slog.Duration("elapsed", 1234*time.Microsecond), slog.Float64("ratio", 0.25))
	}
}

// BenchmarkHandler compares the SDK's handler (which adds xray_trace_id,
// trace_id, span_id, trace_sampled, request_id, service, version, environment)
// with plain slog.JSONHandler given the same record and the same ctx.
func BenchmarkHandler(b *testing.B) {
	ctx := spanCtx(b)
	b.Run("slog.JSONHandler", func(b *testing.B) {
		benchLog(b, slog.New(slog.NewJSONHandler(io.Discard, nil)), ctx)
	})
	b.Run("logging.Handler", func(b *testing.B) {
		benchLog(b, slog.New(NewHandler(io.Discard, &Options{Service: "orders", Version: "1.2.3", Environment: "prod"})), ctx)
	})
	b.Run("logging.Handler/no-span", func(b *testing.B) {
		benchLog(b, slog.New(NewHandler(io.Discard, &Options{Service: "orders", Version: "1.2.3", Environment: "prod"})), context.Background())
	})
	b.Run("Wrap(slog.JSONHandler)", func(b *testing.B) {
		benchLog(b, slog.New(Wrap(slog.NewJSONHandler(io.Discard, nil), &Options{Service: "orders"})), ctx)
	})
	b.Run("FromContext-bound", func(b *testing.B) {
		SetDefaultHandler(NewHandler(io.Discard, &Options{Service: "orders"}))
		defer SetDefaultHandler(nil)
		benchLog(b, FromContext(ctx), context.Background())
	})
}

func BenchmarkHandlerParallel(b *testing.B) {
	ctx := spanCtx(b)
	for _, tc := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
		{"logging.Handler", NewHandler(io.Discard, &Options{Service: "orders", Version: "1.2.3", Environment: "prod"})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := slog.New(tc.h)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.LogAttrs(ctx, slog.LevelInfo, "request handled", slog.String("route", "/orders/{id}"), slog.Int("status", 200))
				}
			})
		})
	}
}

func BenchmarkAccess(b *testing.B) {
	ctx := spanCtx(b)
	h := NewHandler(io.Discard, &Options{Service: "orders"})
	e := &AccessEntry{Protocol: "http", Method: "GET", Route: "/orders/{id}", Path: "/orders/1", Status: 200,
		Duration: time.Millisecond, BytesOut: 123}
	b.ReportAllocs()
	for b.Loop() {
		h.Access(ctx, e)
	}
}

func BenchmarkSampleDebug(b *testing.B) {
	h := NewHandler(io.Discard, &Options{DebugSampleRate: 0.1})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.SampleDebug()
		}
	})
}

// BenchmarkOverhead runs both handlers in alternating short rounds and reports
// the best-round ratio ours/slog ("ratio" < 1.15 is the target), which is far
// less sensitive to a noisy machine than two separate benchmarks.
func BenchmarkOverhead(b *testing.B) {
	ctx := spanCtx(b)
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ours := slog.New(NewHandler(io.Discard, &Options{Service: "orders", Version: "1.2.3", Environment: "prod"}))
	run := func(l *slog.Logger, n int) time.Duration {
		start := time.Now()
		for range n {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled",
				slog.String("route", "/orders/{id}"), slog.Int("status", 200), slog.Bool("cache_hit", true),
				slog.Duration("elapsed", 1234*time.Microsecond), slog.Float64("ratio", 0.25))
		}
		return time.Since(start)
	}
	const n = 2000
	bestPlain, bestOurs := time.Duration(1<<62), time.Duration(1<<62)
	for b.Loop() {
		bestPlain = min(bestPlain, run(plain, n))
		bestOurs = min(bestOurs, run(ours, n))
	}
	b.ReportMetric(float64(bestPlain.Nanoseconds())/n, "slog-ns/line")
	b.ReportMetric(float64(bestOurs.Nanoseconds())/n, "ours-ns/line")
	b.ReportMetric(float64(bestOurs)/float64(bestPlain), "ratio")
}
