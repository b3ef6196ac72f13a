//go:build !race

package otlpenc

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestAllocsTypicalBatch(t *testing.T) {
	spans := typicalBatch(t, 512)
	var e Encoder
	dst := e.AppendTraceRequest(nil, spans) // warm up scratch space; size dst
	dst = make([]byte, 0, 2*len(dst))
	allocs := testing.AllocsPerRun(20, func() {
		dst = e.AppendTraceRequest(dst[:0], spans)
	})
	if allocs != 0 {
		t.Fatalf("AppendTraceRequest allocated %.1f times per 512-span batch, want 0", allocs)
	}
	decode(t, dst) // and the output is still valid
}

func TestAllocsTraceStateAndEvents(t *testing.T) {
	spans := variedBatch(t)[:1] // trace state, events, links, nested values
	// Slice-typed attributes allocate in the attribute package's accessors;
	// drop them to check the rest of the encoder.
	var kept []attribute.KeyValue
	for _, kv := range spans[0].Attributes() {
		switch kv.Value.Type() {
		case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.STRINGSLICE, attribute.SLICE, attribute.MAP:
		default:
			kept = append(kept, kv)
		}
	}
	stub := stubOf(spans[0])
	stub.Attributes = kept
	spans = []sdktrace.ReadOnlySpan{stub.Snapshot()}
	var e Encoder
	dst := e.AppendTraceRequest(nil, spans)
	dst = make([]byte, 0, 2*len(dst))
	allocs := testing.AllocsPerRun(20, func() {
		dst = e.AppendTraceRequest(dst[:0], spans)
	})
	if allocs != 0 {
		t.Fatalf("allocated %.1f times, want 0", allocs)
	}
}
