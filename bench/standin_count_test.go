package bench

import (
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestCountSpans checks the collector stand-in's wire-level span count
// against requests built with the OTLP types.
func TestCountSpans(t *testing.T) {
	spans := func(n int) []*tracepb.Span {
		s := make([]*tracepb.Span, n)
		for i := range s {
			s[i] = &tracepb.Span{Name: "GET /orders/{id}", TraceId: make([]byte, 16), SpanId: make([]byte, 8)}
		}
		return s
	}
	for _, tc := range []struct {
		name string
		req  *coltracepb.ExportTraceServiceRequest
		want int64
	}{
		{"empty", &coltracepb.ExportTraceServiceRequest{}, 0},
		{"one", &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
			{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(1)}}},
		}}, 1},
		{"nested", &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
			{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(3)}, {Spans: spans(4)}}, SchemaUrl: "x"},
			{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(512)}}},
		}}, 519},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := proto.Marshal(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := countSpans(b); got != tc.want {
				t.Errorf("countSpans = %d, want %d", got, tc.want)
			}
		})
	}
}
