//go:build !race

package httpmw_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/middleware/httpmw"
)

// discardRW is a ResponseWriter that reuses its header map, so neither the
// bare nor the instrumented run pays for response plumbing.
type discardRW struct{ h http.Header }

func (w *discardRW) Header() http.Header         { return w.h }
func (w *discardRW) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardRW) WriteHeader(int)             {}

func allocsOf(h http.Handler, hdr ...string) float64 {
	w := &discardRW{h: http.Header{}}
	r := benchRequest()
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	h.ServeHTTP(w, r) // warm caches (route names, pools)
	return testing.AllocsPerRun(500, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
}

// spanCost is what the OpenTelemetry SDK alone costs for the span the
// middleware makes: start with the kind only (the sampler's inputs travel in
// the context), rename, all attributes in one call when recording, end.
func spanCost(tr trace.Tracer) float64 {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	all := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"), attribute.String("url.path", "/orders/42"),
		attribute.String("server.address", "example.com"), attribute.String("url.scheme", "http"),
		attribute.String("http.route", "/orders/{id}"), attribute.Int("http.response.status_code", 200),
		attribute.String("client.address", "192.0.2.1"), attribute.String("network.peer.address", "192.0.2.1"),
		attribute.Int64("http.response.body.size", 2), attribute.String(httpmw.AttrRequestID, "0123456789abcdef0123456789abcdef"),
	}
	ctx := context.Background()
	return testing.AllocsPerRun(500, func() {
		_, s := tr.Start(ctx, "GET", opts...)
		if s.IsRecording() {
			s.SetName("GET /orders/{id}")
			s.SetAttributes(all...)
		}
		s.End()
	})
}

// TestAllocationBudget holds the allocations the instrumentation adds to a
// request (the SDK's span included; no span processor, so no snapshot) and
// those that are the middleware's own.
func TestAllocationBudget(t *testing.T) {
	const traceHdr = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?"
	for _, tc := range []struct {
		name, sampler string
		hdr           []string
		added, own    float64
	}{
		// own: the request struct and r.WithContext's copy; the span adds
		// itself, its context layer and (sampled) its attribute slice.
		{"sampled", "always_on", nil, 5, 2},
		{"unsampled", "always_off", nil, 4, 2},
		// with an incoming trace header and request id (the propagator's
		// extraction is counted as the middleware's own work)
		{"sampled with headers", "always_on", []string{"X-Amzn-Trace-Id", traceHdr, "X-Request-Id", "abc-123"}, 7, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bare := allocsOf(benchMux(), tc.hdr...)
			sdk := benchSDK(t, tc.sampler)
			total := allocsOf(httpmw.New(sdk)(benchMux()), tc.hdr...)
			span := spanCost(sdk.Tracer())
			own := total - bare - span
			t.Logf("bare %.0f, with middleware %.0f, OTel SDK span %.0f => added %.0f (budget %.0f), middleware's own %.0f (budget %.0f)",
				bare, total, span, total-bare, tc.added, own, tc.own)
			if total-bare > tc.added {
				t.Errorf("instrumentation adds %.0f allocations per request, budget %.0f", total-bare, tc.added)
			}
			if own > tc.own {
				t.Errorf("middleware allocates %.0f per request, budget %.0f", own, tc.own)
			}
		})
	}
}
