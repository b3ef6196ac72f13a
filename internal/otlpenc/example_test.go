package otlpenc_test

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/o11y-go/o11y/internal/otlpenc"
)

func Example() {
	span := tracetest.SpanStub{
		Name: "GET /orders/{id}",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    trace.TraceID{0x69, 0x1f, 0x2a, 0x3b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
			SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
			TraceFlags: trace.FlagsSampled,
		}),
		SpanKind:             trace.SpanKindServer,
		StartTime:            time.Unix(1764108000, 0),
		EndTime:              time.Unix(1764108000, 2_500_000),
		Attributes:           []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", 200)},
		Resource:             resource.NewSchemaless(attribute.String("service.name", "orders")),
		InstrumentationScope: instrumentation.Scope{Name: "httpmw"},
	}.Snapshot()

	// One Encoder per exporting goroutine; reuse it and the buffer.
	var enc otlpenc.Encoder
	body := enc.AppendTraceRequest(nil, []sdktrace.ReadOnlySpan{span})
	fmt.Println("request bytes:", len(body))

	// What a collector decodes.
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		panic(err)
	}
	rs := req.ResourceSpans[0]
	s := rs.ScopeSpans[0].Spans[0]
	fmt.Println(rs.Resource.Attributes[0].Value.GetStringValue(), rs.ScopeSpans[0].Scope.Name, s.Name, s.Kind)
	fmt.Printf("flags=%#x duration=%v\n", s.Flags, time.Duration(s.EndTimeUnixNano-s.StartTimeUnixNano))

	// The collector's answer.
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
		RejectedSpans: 1, ErrorMessage: "span too old"}})
	rejected, msg, err := otlpenc.ParseTraceResponse(resp)
	fmt.Println(rejected, msg, err)
	// Output:
	// request bytes: 185
	// orders httpmw GET /orders/{id} SPAN_KIND_SERVER
	// flags=0x101 duration=2.5ms
	// 1 span too old <nil>
}
