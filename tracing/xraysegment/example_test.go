package xraysegment_test

import (
	"fmt"
	"time"

	"github.com/o11y-go/o11y/tracing/xraysegment"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func ExampleEncoder_AppendSegment() {
	tid, _ := trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	parent, _ := trace.SpanIDFromHex("7f3a9c2e1b4d5a60")
	id, _ := trace.SpanIDFromHex("53995c3f42cd8ad8")
	start := time.Unix(1764094880, 130100000)
	span := tracetest.SpanStub{
		Name:        "POST",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: id, TraceFlags: trace.FlagsSampled}),
		Parent:      trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: parent, TraceFlags: trace.FlagsSampled}),
		SpanKind:    trace.SpanKindClient,
		StartTime:   start,
		EndTime:     start.Add(29100 * time.Microsecond),
		Attributes: []attribute.KeyValue{
			attribute.String("peer.service", "payments"),
			attribute.String("http.request.method", "POST"),
			attribute.String("url.full", "https://payments.internal/charge"),
			attribute.Int("http.response.status_code", 502),
		},
		Resource: resource.NewSchemaless(attribute.String("service.name", "orders")),
	}.Snapshot()

	enc := xraysegment.NewEncoder(xraysegment.Config{})
	fmt.Println(string(enc.AppendSegment(nil, span)))
	// Output:
	// {"name":"payments","id":"53995c3f42cd8ad8","trace_id":"1-5759e988-bd862e3fe1be46a994272793","parent_id":"7f3a9c2e1b4d5a60","type":"subsegment","namespace":"remote","start_time":1764094880.130100,"end_time":1764094880.159200,"fault":true,"error":false,"throttle":false,"http":{"request":{"method":"POST","url":"https://payments.internal/charge","traced":true},"response":{"status":502}},"metadata":{"default":{"peer.service":"payments"}}}
}
