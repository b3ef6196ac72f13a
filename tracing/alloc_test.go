//go:build !race

package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TestAllocBudgets pins the per-request costs: Extract ≤ 2 allocations
// (the incoming node and OTel's span-slot node), Inject = the header value
// and http.Header's slice, the response header 0 into a stack buffer.
func TestAllocBudgets(t *testing.T) {
	hdr := http.Header{}
	hdr.Set(HeaderName, h1+";Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2")
	carrier := propagation.HeaderCarrier(hdr)
	p := XRayPropagator{}
	bg := context.Background()

	var ctx context.Context
	if a := testing.AllocsPerRun(200, func() { ctx = p.Extract(bg, carrier) }); a > 2 {
		t.Errorf("Extract: %v allocs, budget 2", a)
	}
	rootOnly := propagation.MapCarrier{HeaderName: "Self=1-67891233-12456789abcdef012345678; Root=1-67891233-abcdef012345678912345678;CalledFrom=app"}
	if a := testing.AllocsPerRun(200, func() { p.Extract(bg, rootOnly) }); a > 2 {
		t.Errorf("Extract Root-only: %v allocs, budget 2", a)
	}
	empty := propagation.HeaderCarrier(http.Header{})
	if a := testing.AllocsPerRun(200, func() { p.Extract(bg, empty) }); a != 0 {
		t.Errorf("Extract without header: %v allocs, want 0", a)
	}

	out := http.Header{}
	spanCtx := trace.ContextWithSpanContext(ctx, h1SpanContext(true))
	if a := testing.AllocsPerRun(200, func() { p.Inject(spanCtx, propagation.HeaderCarrier(out)) }); a > 2 {
		t.Errorf("Inject: %v allocs, budget 2", a)
	}
	var buf [MaxHeaderLen]byte
	if a := testing.AllocsPerRun(200, func() { appendResponseHeader(buf[:0], spanCtx) }); a != 0 {
		t.Errorf("appendResponseHeader: %v allocs, want 0", a)
	}
	if a := testing.AllocsPerRun(200, func() { IncomingHeader(spanCtx) }); a != 0 {
		t.Errorf("IncomingHeader: %v allocs, want 0", a)
	}
	g := NewIDGenerator()
	if a := testing.AllocsPerRun(200, func() { g.NewIDs(bg) }); a != 0 {
		t.Errorf("NewIDs: %v allocs, want 0", a)
	}
}
