//go:build !race

package mwcore

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/tracing"
)

func TestNoAllocations(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	const in = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111;Sampled=?"
	ctx := tracing.NewPropagator("xray").Extract(context.Background(), propagation.MapCarrier{"x-amzn-trace-id": in})
	w3c := tracing.NewPropagator("tracecontext").Extract(context.Background(), propagation.MapCarrier{})
	ops := NewOps(metrics.New(metrics.Options{FlushInterval: -1, Writer: discard{}}), name)
	ops.Get(key{"GET", "/a"})
	var buf [MaxTraceHeaderLen]byte
	for name, fn := range map[string]func(){
		"ValidRequestID":          func() { ValidRequestID("0f8fad5b-d9cb-469f-a165-70867728950e") },
		"AppendRequestID":         func() { AppendRequestID(buf[:0]) },
		"AppendTraceHeader":       func() { AppendTraceHeader(buf[:0], ctx, sc, in) },
		"AppendTraceHeader/other": func() { AppendTraceHeader(buf[:0], w3c, sc, in) },
		"ClientAddress":           func() { ClientAddress("[2001:db8::1]:443, 10.0.0.1", "10.0.0.2") },
		"ClientAddress/bad":       func() { ClientAddress("unknown", "10.0.0.2") },
		"Ops.Get":                 func() { ops.Get(key{"GET", "/a"}) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocs", name, n)
		}
	}
}
