package httpmw_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/o11y-go/o11y/middleware/httpmw"
)

// BenchmarkServer compares one GET through a bare ServeMux with the same
// request through the middleware, sampled and unsampled. The comparison
// suite (otelhttp, aws-xray-sdk-go) uses the same request shape.
func BenchmarkServer(b *testing.B) {
	run := func(b *testing.B, h http.Handler) {
		w := &benchRW{h: http.Header{}}
		r := benchRequest()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, benchMux()) })
	b.Run("sampled", func(b *testing.B) { run(b, httpmw.New(benchSDK(b, "always_on"))(benchMux())) })
	b.Run("unsampled", func(b *testing.B) { run(b, httpmw.New(benchSDK(b, "always_off"))(benchMux())) })
	b.Run("skipped", func(b *testing.B) {
		run(b, httpmw.New(benchSDK(b, "always_on"), httpmw.WithSkip(httpmw.PathPrefix("/orders/")))(benchMux()))
	})
}

// BenchmarkServerParallel is BenchmarkServer/sampled under RunParallel:
// the route cache and pools are shared.
func BenchmarkServerParallel(b *testing.B) {
	h := httpmw.New(benchSDK(b, "always_on"))(benchMux())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchRW{h: http.Header{}}
		r := benchRequest()
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
}

type benchRW struct{ h http.Header }

func (w *benchRW) Header() http.Header         { return w.h }
func (w *benchRW) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchRW) WriteHeader(int)             {}

// BenchmarkClient is one GET through Transport against a loopback server.
func BenchmarkClient(b *testing.B) {
	srv := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	for _, tc := range []struct {
		name string
		c    *http.Client
	}{
		{"bare", &http.Client{}},
		{"traced", httpmw.Client(benchSDK(b, "always_on"), nil)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				resp, err := tc.c.Get(srv.URL + "/x?y=1")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
}
