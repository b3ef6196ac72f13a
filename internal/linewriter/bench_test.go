package linewriter

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// accessLine is the size of a typical access line (about 330 bytes).
var accessLine = []byte(`{"time":"2026-12-03T18:00:00.000Z","level":"INFO","msg":"access","xray_trace_id":"1-67a0c1d2-5759e988bd862e3fe1be46a4","trace_id":"67a0c1d25759e988bd862e3fe1be46a4","span_id":"53995c3f42cd8ad8","trace_sampled":true,"request_id":"f3b1c9a2","service":"orders","protocol":"http","method":"GET","route":"/orders/{id}","status":200,"duration_ms":0.42}` + "\n")

// drainedPipe returns the write end of a pipe whose read end another
// process (cat > /dev/null) drains, as a log collector reads a container's
// stdout: the reader's CPU is not this process's.
func drainedPipe(b *testing.B) *os.File {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("cat")
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		b.Skipf("cat: %v", err)
	}
	_ = r.Close()
	b.Cleanup(func() {
		_ = w.Close()
		_ = cmd.Wait()
	})
	return w
}

// cpuNow is this process's CPU time (user + system, all threads).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriterPipe writes access-sized lines into a drained os.Pipe,
// synchronously (one write(2) per line) and batched; writes/op is the
// number of write(2) calls per line.
func BenchmarkWriterPipe(b *testing.B) {
	for _, c := range []struct {
		name     string
		interval time.Duration
	}{{"sync", 0}, {"batched-1ms", time.Millisecond}, {"batched-2ms", 2 * time.Millisecond}, {"batched-5ms", 5 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			w := NewBatched(drainedPipe(b), Options{FlushInterval: c.interval})
			b.SetBytes(int64(len(accessLine)))
			b.ReportAllocs()
			cpu := cpuNow()
			for b.Loop() {
				if _, err := w.Write(accessLine); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(w.Writes())/float64(b.N), "writes/op")
			if d := w.Dropped(); d > 0 {
				b.Fatalf("%d lines dropped", d)
			}
		})
	}
}

// BenchmarkWriterPipeParallel is BenchmarkWriterPipe with every P writing.
func BenchmarkWriterPipeParallel(b *testing.B) {
	for _, c := range []struct {
		name     string
		interval time.Duration
	}{{"sync", 0}, {"batched-2ms", 2 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			w := NewBatched(drainedPipe(b), Options{FlushInterval: c.interval})
			b.SetBytes(int64(len(accessLine)))
			b.ReportAllocs()
			cpu := cpuNow()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := w.Write(accessLine); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if err := w.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(w.Writes())/float64(b.N), "writes/op")
		})
	}
}
