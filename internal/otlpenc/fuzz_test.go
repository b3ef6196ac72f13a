package otlpenc

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzParseTraceResponse: never panics, and agrees with proto.Unmarshal
// whenever that succeeds.
func FuzzParseTraceResponse(f *testing.F) {
	for _, m := range []*coltracepb.ExportTraceServiceResponse{
		{},
		{PartialSuccess: &coltracepb.ExportTracePartialSuccess{}},
		{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 12, ErrorMessage: "spans too old"}},
		{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: -1}},
		{PartialSuccess: &coltracepb.ExportTracePartialSuccess{ErrorMessage: "warning only"}},
	} {
		b, err := proto.Marshal(m)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0x0a})                                           // truncated
	f.Add([]byte{0x0a, 0x02, 0x08, 0x05, 0x0a, 0x02, 0x08, 0x07}) // repeated partial_success merges
	f.Add([]byte{0x08, 0x01})                                     // partial_success with the wrong wire type: unknown
	f.Add([]byte{0x12, 0x03, 'a', 'b', 'c'})                      // unknown field
	f.Fuzz(func(t *testing.T, b []byte) {
		rejected, msg, err := ParseTraceResponse(b)
		var want coltracepb.ExportTraceServiceResponse
		if proto.Unmarshal(b, &want) != nil {
			return // ours may be more lenient (invalid UTF-8 in the message)
		}
		if err != nil {
			t.Fatalf("proto.Unmarshal accepts %x, ParseTraceResponse says %v", b, err)
		}
		if rejected != want.GetPartialSuccess().GetRejectedSpans() || msg != want.GetPartialSuccess().GetErrorMessage() {
			t.Fatalf("%x: got (%d, %q), proto says (%d, %q)", b, rejected, msg,
				want.GetPartialSuccess().GetRejectedSpans(), want.GetPartialSuccess().GetErrorMessage())
		}
	})
}

// FuzzAppendTraceRequest encodes spans built from fuzzed strings and
// numbers: the output always unmarshals, carries the values (sanitised as
// a []rune conversion would), and re-marshals to the same bytes.
func FuzzAppendTraceRequest(f *testing.F) {
	f.Add("GET /", "http.route", "/users/{id}", int64(200), 1.5, []byte{1, 2}, 0, "svc", "scope")
	f.Add("", "", "", int64(-1), math.Inf(1), []byte(nil), -5, "", "")
	f.Add("\xff\xfe", "k\xc3", "v\xe2\x82", int64(math.MinInt64), math.NaN(), []byte{0xff}, math.MaxInt, "r\xff", "s\xed\xa0\x80")
	f.Add(strings.Repeat("n", 300), strings.Repeat("k", 130), strings.Repeat("v", 17000), int64(1<<40), math.Copysign(0, -1), make([]byte, 200), 1<<33, "res", "sc")
	f.Fuzz(func(t *testing.T, name, key, val string, n int64, fl float64, raw []byte, dropped int, resVal, scopeName string) {
		res := resource.NewSchemaless(attribute.String("service.name", resVal), attribute.String(key, val))
		stub := tracetest.SpanStub{
			Name:        name,
			SpanContext: spanCtx(traceID1, spanID(byte(n)), n%2 == 0, false, trace.TraceState{}),
			Parent:      spanCtx(traceID1, spanID(byte(n>>8)), true, n%3 == 0, trace.TraceState{}),
			SpanKind:    trace.SpanKind(n & 7),
			StartTime:   time.Unix(0, n),
			EndTime:     time.Unix(0, n).Add(time.Duration(dropped)),
			Attributes: []attribute.KeyValue{
				attribute.String(key, val), attribute.Int64("n", n), attribute.Float64("f", fl),
				attribute.ByteSlice("raw", raw), attribute.StringSlice("ss", []string{val, name}),
				attribute.Map("m", attribute.String(key, val), attribute.Slice("s", attribute.StringValue(val), attribute.Int64Value(n))),
			},
			Events:               []sdktrace.Event{{Name: val, Time: time.Unix(0, n), Attributes: []attribute.KeyValue{attribute.String(key, name)}, DroppedAttributeCount: dropped}},
			Links:                []sdktrace.Link{{SpanContext: spanCtx(traceID2, spanID(3), true, n%5 == 0, trace.TraceState{}), DroppedAttributeCount: dropped}},
			Status:               sdktrace.Status{Code: codes.Code(n & 3), Description: val},
			DroppedAttributes:    dropped,
			DroppedEvents:        -dropped,
			DroppedLinks:         dropped,
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: scopeName, Version: name},
		}
		spans := []sdktrace.ReadOnlySpan{stub.Snapshot(), nil, stub.Snapshot()}
		var e Encoder
		b := e.AppendTraceRequest(nil, spans)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			t.Fatalf("output does not unmarshal: %v", err)
		}
		sanitized := func(s string) string { return string([]rune(s)) }
		sp := req.ResourceSpans[0].ScopeSpans[0].Spans
		if len(sp) != 2 || sp[0].Name != sanitized(name) || sp[1].Attributes[0].Value.GetStringValue() != sanitized(val) ||
			sp[0].Attributes[0].Key != sanitized(key) || sp[0].Status.GetMessage() != sanitized(val) ||
			sp[0].Attributes[1].Value.GetIntValue() != n || string(sp[0].Attributes[3].Value.GetBytesValue()) != string(raw) {
			t.Fatalf("values lost: %v", sp)
		}
		again, err := proto.Marshal(&req)
		require.NoError(t, err)
		if string(again) != string(b) {
			t.Fatalf("not canonical:\n ours %x\nproto %x", b, again)
		}
	})
}
