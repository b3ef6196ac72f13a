package bench

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// discardWriter is a reusable http.ResponseWriter, identical for every
// variant, so the benchmark measures the middleware rather than the recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

func httpVariants() []variant {
	return append([]variant{bareHTTP, otelhttpOTLP, xraySDK}, o11yHTTPVariants()...)
}

// BenchmarkHTTPServer measures one sampled GET /orders/{id} through each
// variant, export included.
func BenchmarkHTTPServer(b *testing.B) {
	for _, v := range httpVariants() {
		b.Run(v.name, func(b *testing.B) {
			h, e := v.build(b, ordersMux())
			benchOrders(b, h, e)
		})
	}
}

// benchOrders serves b.N sampled GET /orders/{id} through h, flushes e inside
// the timed region, and reports CPU per request, allocations and loss.
func benchOrders(b *testing.B, h http.Handler, e *export) {
	req := httptest.NewRequest(http.MethodGet, "http://orders.example/orders/42", nil)
	req.Header.Set("User-Agent", "bench/1.0")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	sysw := writeSyscalls()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	timedFlush(b, e)
	cpu.report(b)
	if n := writeSyscalls(); n >= 0 && sysw >= 0 {
		b.ReportMetric(float64(n-sysw)/float64(b.N), "write-calls/op")
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
	reportLoss(b, e, b.N)
}

// writeSyscalls returns how many write(2)-family calls (write, writev,
// pwrite; not sendmsg/sendmmsg) this process has made, from /proc/self/io,
// or -1 where that is not available. Per request it counts the log lines'
// writes to stdout and OTLP's TCP writes; it does not depend on load.
func writeSyscalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
