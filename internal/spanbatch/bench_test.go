package spanbatch

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// nopExporter accepts every batch at once.
type nopExporter struct{}

func (nopExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nopExporter) Shutdown(context.Context) error                             { return nil }

// processCPU is the CPU time of the whole process (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOnEndExport hands b.N spans to a processor whose exporter does
// nothing, with a little work between spans (a stand-in for the request
// that ends each span), and reports the export goroutine's wake-ups per
// span and the whole process's CPU per span: the hand-off's cost, wake-ups
// included, without the exporter's own work.
func BenchmarkOnEndExport(b *testing.B) {
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batch64", 64}, {"batch256", 256}, {"batch512", 512}} {
		b.Run(bc.name, func(b *testing.B) {
			var blocks atomic.Int64
			p := New(nopExporter{}, Options{QueueSize: 2048, BatchSize: bc.batch, Delay: 10 * time.Millisecond,
				Getenv:  func(string) string { return "" },
				waiting: func(bool, int) { blocks.Add(1) }})
			defer func() { _ = p.Shutdown(context.Background()) }()
			s := span("s", true)
			blocks.Store(0)
			cpu := processCPU()
			b.ReportAllocs()
			for b.Loop() {
				spin(2000)
				p.OnEnd(s)
			}
			_ = p.ForceFlush(context.Background())
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(blocks.Load())/float64(b.N), "wakes/op")
			b.ReportMetric(float64(p.Dropped())/float64(b.N), "drops/op")
		})
	}
}

var spinSink uint64

// spin does about n simple steps of work.
func spin(n int) {
	x := spinSink
	for i := range n {
		x = x*31 + uint64(i)
	}
	spinSink = x
}
