package console

import (
	"bytes"
	"compress/gzip"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func intKV(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func arrKV(k string, vs ...*commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}}
}

func sval(v string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
}

func sampleOTLP() *collectortrace.ExportTraceServiceRequest {
	tid := []byte{0x6b, 0x11, 0x95, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	server := &tracepb.Span{
		TraceId: tid, SpanId: []byte{1, 1, 1, 1, 1, 1, 1, 1}, Name: "GET /orders/{id}", Kind: tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: 1796314490_000000000, EndTimeUnixNano: 1796314490_020000000,
		Attributes: []*commonpb.KeyValue{
			str("http.request.method", "GET"), str("order_id", "42"), intKV("http.response.status_code", 500),
			arrKV("tags", sval("a"), &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}}),
		},
		Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"},
		Events: []*tracepb.Span_Event{{Name: "exception", TimeUnixNano: 1796314490_010000000,
			Attributes: []*commonpb.KeyValue{str("exception.type", "*errors.errorString"), str("exception.message", "boom")}}},
	}
	client := &tracepb.Span{
		TraceId: tid, SpanId: []byte{2, 2, 2, 2, 2, 2, 2, 2}, ParentSpanId: []byte{1, 1, 1, 1, 1, 1, 1, 1}, Name: "DynamoDB.GetItem",
		Kind: tracepb.Span_SPAN_KIND_CLIENT, StartTimeUnixNano: 1796314490_001000000, EndTimeUnixNano: 1796314490_005000000,
		Attributes: []*commonpb.KeyValue{
			str("rpc.system", "aws-api"), str("rpc.service", "DynamoDB"), str("rpc.method", "GetItem"),
			arrKV("aws.dynamodb.table_names", sval("orders")),
		},
	}
	bad := &tracepb.Span{TraceId: []byte{1}, SpanId: []byte{3}} // invalid ids: rejected
	return &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "orders")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{server, client, bad}}},
	}}}
}

// TestOTLPTranslation checks that OTLP spans become the documents the SDK's
// own X-Ray translator writes: a segment named after service.name with its
// fault, exception and annotation, and an aws subsegment that maps to an
// inferred DynamoDB node.
func TestOTLPTranslation(t *testing.T) {
	c := newTestConsole(t, 0)
	c.enc = newEncoderForTest([]string{"order_id"})
	if rejected := c.ingestOTLP(sampleOTLP()); rejected != 1 {
		t.Errorf("rejected %d spans, want the one with invalid ids", rejected)
	}
	f, _ := ParseFilter(`service("orders") AND annotation.order_id = "42" AND fault AND http.status = 500`)
	l := c.store.Traces(f, 0, 10)
	if l.Matched != 1 {
		t.Fatalf("translated trace not found: %+v, stats %v", l, c.Stats())
	}
	m := c.store.ServiceMap(0)
	found := false
	for _, n := range m.Nodes {
		if n.Name == "DynamoDB" && n.Type == "AWS::DynamoDB::Table" {
			found = true
		}
	}
	if !found {
		t.Errorf("no DynamoDB node in %+v", m.Nodes)
	}
	d, _ := c.store.Trace(l.Traces[0].ID)
	var all []byte
	for _, s := range d.Segments {
		all = append(all, s...)
	}
	for _, want := range []string{`"exceptions"`, `"message":"boom"`, `"namespace":"aws"`} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("documents lack %s:\n%s", want, all)
		}
	}
}

func TestOTLPHTTPBodies(t *testing.T) {
	req := sampleOTLP()
	pb, _ := proto.Marshal(req)
	js, _ := protojson.Marshal(req)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(pb)
	_ = zw.Close()
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		json          bool
	}{
		{"protobuf", "application/x-protobuf", "", pb, false},
		{"json", "application/json; charset=utf-8", "", js, true},
		{"gzip", "application/x-protobuf", "gzip", gz.Bytes(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, isJSON, err := decodeOTLPHTTP(tc.ct, tc.enc, tc.body)
			if err != nil || isJSON != tc.json || len(got.GetResourceSpans()) != 1 || len(got.ResourceSpans[0].ScopeSpans[0].Spans) != 3 {
				t.Errorf("decode: %v json=%v %v", err, isJSON, got)
			}
		})
	}
	if _, _, err := decodeOTLPHTTP("application/x-protobuf", "br", pb); err == nil {
		t.Error("unknown Content-Encoding accepted")
	}
}

func FuzzOTLPHTTP(f *testing.F) {
	pb, _ := proto.Marshal(sampleOTLP())
	js, _ := protojson.Marshal(sampleOTLP())
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, false)
	c := newTestConsole(f, 100)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "application/x-protobuf"
		if isJSON {
			ct = "application/json"
		}
		req, _, err := decodeOTLPHTTP(ct, "", body)
		if err != nil {
			return
		}
		_ = c.ingestOTLP(req)
		_ = c.store.ServiceMap(0)
	})
}
