package tracing

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// FuzzParseHeader: any input parses without panicking; whatever parses
// re-emits within 256 characters, and what we emit parses back to the same
// ids and decision (round trip) and is emitted identically again.
func FuzzParseHeader(f *testing.F) {
	for _, tc := range conformance {
		f.Add(tc.in)
	}
	f.Add("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=" + strings.Repeat("x", 300))
	tp := newTP(sdktrace.AlwaysSample())
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := ParseHeader(s)
		if !ok {
			if h != (Header{}) {
				t.Fatalf("rejected header not zero: %#v", h)
			}
			return
		}
		out := h.String()
		if len(out) > MaxHeaderLen {
			t.Fatalf("emitted %d chars: %q", len(out), out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 || c >= 0x7f {
				t.Fatalf("emitted control or non-ASCII byte %q in %q", c, out)
			}
		}
		h2, ok := ParseHeader(out)
		if !ok {
			t.Fatalf("our output %q (from %q) does not parse", out, s)
		}
		if h2.TraceID != h.TraceID || h2.ParentID != h.ParentID || h2.Sampled != h.Sampled {
			t.Fatalf("round trip changed ids: %q -> %q", s, out)
		}
		if out2 := h2.String(); out2 != out {
			t.Fatalf("not stable: %q -> %q", out, out2)
		}

		// Through the propagator and a span: inject stays within bounds.
		ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: s})
		ctx, span := tp.Tracer("f").Start(ctx, "s")
		defer span.End()
		if span.SpanContext().TraceID() != h.TraceID {
			t.Fatalf("trace not continued for %q", s)
		}
		c := propagation.MapCarrier{}
		XRayPropagator{}.Inject(ctx, c)
		if len(c[HeaderName]) > MaxHeaderLen {
			t.Fatalf("injected %d chars", len(c[HeaderName]))
		}
		if len(appendResponseHeader(nil, ctx)) > MaxHeaderLen {
			t.Fatal("response header too long")
		}
	})
}
