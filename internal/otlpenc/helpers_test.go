package otlpenc

import (
	"bytes"
	"context"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// captureServer is an in-process OTLP TraceService recording requests.
type captureServer struct {
	coltracepb.UnimplementedTraceServiceServer
	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
}

func (s *captureServer) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, proto.Clone(req).(*coltracepb.ExportTraceServiceRequest))
	s.mu.Unlock()
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// upstreamRequests runs the upstream otlptracegrpc exporter once per batch
// against a loopback gRPC server and returns what it received.
func upstreamRequests(t *testing.T, batches ...[]sdktrace.ReadOnlySpan) []*coltracepb.ExportTraceServiceRequest {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	cs := &captureServer{}
	coltracepb.RegisterTraceServiceServer(srv, cs)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(lis.Addr().String()),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	)
	require.NoError(t, err)
	for _, b := range batches {
		require.NoError(t, exp.ExportSpans(ctx, b))
	}
	require.NoError(t, exp.Shutdown(ctx))
	cs.mu.Lock()
	defer cs.mu.Unlock()
	require.Len(t, cs.reqs, len(batches))
	return cs.reqs
}

// decode unmarshals an encoded request (validating UTF-8 as protobuf does).
func decode(t testing.TB, b []byte) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	var req coltracepb.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(b, &req))
	return &req
}

// sortResourceSpans orders ResourceSpans canonically (upstream iterates a map).
func sortResourceSpans(req *coltracepb.ExportTraceServiceRequest) {
	key := func(i int) []byte {
		rs := req.ResourceSpans[i]
		k, _ := proto.MarshalOptions{Deterministic: true}.Marshal(rs.Resource)
		return append(k, rs.SchemaUrl...)
	}
	sort.SliceStable(req.ResourceSpans, func(i, j int) bool { return bytes.Compare(key(i), key(j)) < 0 })
}

var (
	traceID1 = trace.TraceID{0x5f, 0x1d, 0x2a, 0x3b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	traceID2 = trace.TraceID{0x60, 0, 0, 1, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44}
	baseTime = time.Date(2026, 11, 25, 22, 0, 0, 123456789, time.UTC)
)

func spanID(n byte) trace.SpanID { return trace.SpanID{0xa0, 1, 2, 3, 4, 5, 6, n} }

func mustTraceState(t testing.TB, s string) trace.TraceState {
	ts, err := trace.ParseTraceState(s)
	require.NoError(t, err)
	return ts
}

func spanCtx(tid trace.TraceID, sid trace.SpanID, sampled, remote bool, ts trace.TraceState) trace.SpanContext {
	var f trace.TraceFlags
	if sampled {
		f = trace.FlagsSampled
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: f, Remote: remote, TraceState: ts})
}

// allTypesAttrs holds every attribute type, nested values and edge values.
func allTypesAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.Bool("b.true", true),
		attribute.Bool("b.false", false),
		attribute.Int64("i.zero", 0),
		attribute.Int64("i.neg", -42),
		attribute.Int64("i.big", 1<<62),
		attribute.Float64("f.zero", 0),
		attribute.Float64("f.pi", 3.14159),
		attribute.String("s.empty", ""),
		attribute.String("s", "hello"),
		attribute.String("s.200", strings.Repeat("x", 200)),
		attribute.String("", "empty key"),
		attribute.ByteSlice("bytes", []byte{0, 1, 0xff}),
		attribute.ByteSlice("bytes.empty", nil),
		attribute.BoolSlice("bs", []bool{true, false}),
		attribute.Int64Slice("is", []int64{0, -1, 1 << 40}),
		attribute.Float64Slice("fs", []float64{0, -1.5}),
		attribute.StringSlice("ss", []string{"a", "", strings.Repeat("y", 130)}),
		attribute.StringSlice("ss.empty", []string{}),
		attribute.Slice("slice", attribute.IntValue(1), attribute.StringValue("two"),
			attribute.SliceValue(attribute.BoolValue(true)),
			attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 2)),
			attribute.Value{}),
		attribute.Slice("slice.empty"),
		attribute.Map("map", attribute.String("z", "last"), attribute.Bool("a", true),
			attribute.Slice("nested", attribute.Float64Value(1.25), attribute.ByteSliceValue([]byte("raw")))),
		attribute.Map("map.empty"),
		{Key: "empty.value"},
	}
}

// httpServerAttrs are the 13 attributes of a typical HTTP server span.
func httpServerAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("url.path", "/api/v1/orders/12345"),
		attribute.String("server.address", "orders.internal.example.com"),
		attribute.String("url.scheme", "https"),
		attribute.String("http.route", "/api/v1/orders/{id}"),
		attribute.Int("server.port", 8443),
		attribute.Int("http.response.status_code", 200),
		attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"),
		attribute.String("client.address", "203.0.113.77"),
		attribute.String("network.peer.address", "10.0.12.34"),
		attribute.Int("http.response.body.size", 1532),
		attribute.String("http.request.id", "b6c0a2e4-6f1d-4a8e-9c3b-2d7f1e5a9b10"),
		attribute.String("network.protocol.version", "1.1"),
	}
}

func testResource(t testing.TB, schema string, kvs ...attribute.KeyValue) *resource.Resource {
	r, err := resource.New(context.Background(), resource.WithAttributes(kvs...), resource.WithSchemaURL(schema))
	require.NoError(t, err)
	return r
}

// httpSpan is a typical ended SERVER span with a remote parent.
func httpSpan(res *resource.Resource, i int) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{
		Name:                 "GET /api/v1/orders/{id}",
		SpanContext:          spanCtx(traceID1, spanID(byte(i)), true, false, trace.TraceState{}),
		Parent:               spanCtx(traceID1, spanID(0xfe), true, true, trace.TraceState{}),
		SpanKind:             trace.SpanKindServer,
		StartTime:            baseTime.Add(time.Duration(i) * time.Millisecond),
		EndTime:              baseTime.Add(time.Duration(i)*time.Millisecond + 1234567),
		Attributes:           httpServerAttrs(),
		Status:               sdktrace.Status{Code: codes.Unset},
		Resource:             res,
		InstrumentationScope: instrumentation.Scope{Name: "github.com/o11y-go/o11y/middleware/httpmw", Version: "0.1.0"},
	}.Snapshot()
}

func protowireAppendLen(b, body []byte) []byte { return protowire.AppendBytes(b, body) }

func stubOf(s sdktrace.ReadOnlySpan) tracetest.SpanStub { return tracetest.SpanStubFromReadOnlySpan(s) }

// typicalBatch is n typical HTTP server spans of one resource and scope.
func typicalBatch(t testing.TB, n int) []sdktrace.ReadOnlySpan {
	res := testResource(t, "https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "orders"), attribute.String("cloud.provider", "aws"),
		attribute.String("cloud.platform", "aws_ecs"), attribute.String("aws.ecs.task.arn", "arn:aws:ecs:eu-west-1:123456789012:task/main/0123456789abcdef"))
	spans := make([]sdktrace.ReadOnlySpan, n)
	for i := range spans {
		spans[i] = httpSpan(res, i)
	}
	return spans
}
