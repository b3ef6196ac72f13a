package otlpenc

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// BenchmarkEncode512 encodes a 512-span batch of typical HTTP server spans
// with this package and, for comparison, the way the upstream exporter
// does: build the generated structs per export, then proto.Marshal.
func BenchmarkEncode512(b *testing.B) {
	spans := typicalBatch(b, 512)
	b.Run("otlpenc", func(b *testing.B) {
		var e Encoder
		dst := e.AppendTraceRequest(nil, spans)
		b.SetBytes(int64(len(dst)))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			dst = e.AppendTraceRequest(dst[:0], spans)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
	})
	b.Run("build+proto.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			out, err := proto.Marshal(buildRequest(spans))
			if err != nil || len(out) == 0 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
	})
	b.Run("proto.Marshal-prebuilt", func(b *testing.B) {
		req := buildRequest(spans)
		b.ReportAllocs()
		for range b.N {
			if _, err := proto.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
	})
}

// buildRequest builds the generated message the way the upstream
// exporter's transform does for single-resource, single-scope batches of
// scalar-attribute spans (enough for the benchmark; the equivalence tests
// compare against the real exporter).
func buildRequest(spans []sdktrace.ReadOnlySpan) *coltracepb.ExportTraceServiceRequest {
	first := spans[0]
	var resAttrs []*commonpb.KeyValue
	for it := first.Resource().Iter(); it.Next(); {
		resAttrs = append(resAttrs, pbKeyValue(it.Attribute()))
	}
	scope := first.InstrumentationScope()
	ss := &tracepb.ScopeSpans{Scope: pbScope(scope), SchemaUrl: scope.SchemaURL}
	for _, sd := range spans {
		ss.Spans = append(ss.Spans, pbSpan(sd))
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: resAttrs},
		ScopeSpans: []*tracepb.ScopeSpans{ss},
		SchemaUrl:  first.Resource().SchemaURL(),
	}}}
}

func pbScope(s instrumentation.Scope) *commonpb.InstrumentationScope {
	if s == (instrumentation.Scope{}) {
		return nil
	}
	return &commonpb.InstrumentationScope{Name: s.Name, Version: s.Version}
}

func pbSpan(sd sdktrace.ReadOnlySpan) *tracepb.Span {
	sc := sd.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	st := sd.Status()
	code := tracepb.Status_STATUS_CODE_UNSET
	switch st.Code {
	case codes.Ok:
		code = tracepb.Status_STATUS_CODE_OK
	case codes.Error:
		code = tracepb.Status_STATUS_CODE_ERROR
	}
	s := &tracepb.Span{
		TraceId:           tid[:],
		SpanId:            sid[:],
		TraceState:        sc.TraceState().String(),
		Status:            &tracepb.Status{Code: code, Message: st.Description},
		StartTimeUnixNano: unixNano(sd.StartTime()),
		EndTimeUnixNano:   unixNano(sd.EndTime()),
		Kind:              tracepb.Span_SpanKind(spanKind(sd.SpanKind())),
		Name:              sd.Name(),
		Flags:             spanFlags(sc.TraceFlags(), sd.Parent()),
	}
	for _, kv := range sd.Attributes() {
		s.Attributes = append(s.Attributes, pbKeyValue(kv))
	}
	if psid := sd.Parent().SpanID(); psid.IsValid() {
		s.ParentSpanId = psid[:]
	}
	return s
}

func pbKeyValue(kv attribute.KeyValue) *commonpb.KeyValue {
	av := &commonpb.AnyValue{}
	switch kv.Value.Type() {
	case attribute.STRING:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: kv.Value.AsString()}
	case attribute.INT64:
		av.Value = &commonpb.AnyValue_IntValue{IntValue: kv.Value.AsInt64()}
	case attribute.BOOL:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: kv.Value.AsBool()}
	case attribute.FLOAT64:
		av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: kv.Value.AsFloat64()}
	}
	return &commonpb.KeyValue{Key: string(kv.Key), Value: av}
}

// TestBuildRequestMatches keeps the benchmark honest: the comparison
// builds the same message this package encodes.
func TestBuildRequestMatches(t *testing.T) {
	spans := typicalBatch(t, 8)
	var e Encoder
	want, err := proto.Marshal(buildRequest(spans))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.AppendTraceRequest(nil, spans); string(got) != string(want) {
		t.Fatalf("encodings differ:\n%x\n%x", got, want)
	}
}

// BenchmarkParseTraceResponse parses a partial-success answer.
func BenchmarkParseTraceResponse(b *testing.B) {
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
		RejectedSpans: 3, ErrorMessage: "3 spans rejected: too old"}})
	b.ReportAllocs()
	for range b.N {
		if _, _, err := ParseTraceResponse(resp); err != nil {
			b.Fatal(err)
		}
	}
}
