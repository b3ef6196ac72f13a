package grpcmw_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/xrayid"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

const (
	unaryMethod  = "/grpc.testing.TestService/UnaryCall"
	serverStream = "/grpc.testing.TestService/StreamingOutputCall"
	clientStream = "/grpc.testing.TestService/StreamingInputCall"
	bidiStream   = "/grpc.testing.TestService/FullDuplexCall"
	testService_ = "grpc.testing.TestService"
)

// waitSpans returns the ended spans, which must be n, once no RPC is in
// flight on either side: the server ends its span after the status went
// out, so the client may see the reply first.
func waitSpans(t *testing.T, e *env, n int) tracetest.SpanStubs {
	t.Helper()
	e.cliTrack.waitIdle(t)
	e.srvTrack.waitIdle(t)
	spans := e.rec.Spans()
	require.Len(t, spans, n, "spans: %v", spanNames(spans))
	return spans
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.SpanKind.String()+":"+s.Name)
	}
	return out
}

func spanOfKind(t *testing.T, spans tracetest.SpanStubs, k trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.SpanKind == k {
			return s
		}
	}
	t.Fatalf("no %v span in %v", k, spanNames(spans))
	return tracetest.SpanStub{}
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestUnaryServerAndClientSpans(t *testing.T) {
	e := newEnv(t, envOpts{})
	var header metadata.MD
	_, err := e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{ResponseSize: 10, Payload: &testpb.Payload{Body: []byte("hi")}}, grpc.Header(&header))
	require.NoError(t, err)

	spans := waitSpans(t, e, 2)
	srv, cli := spanOfKind(t, spans, trace.SpanKindServer), spanOfKind(t, spans, trace.SpanKindClient)

	assert.Equal(t, unaryMethod, srv.Name)
	sa := attrs(srv)
	assert.Equal(t, "grpc", sa["rpc.system"].AsString())
	assert.Equal(t, testService_, sa["rpc.service"].AsString())
	assert.Equal(t, "UnaryCall", sa["rpc.method"].AsString())
	assert.Equal(t, unaryMethod, sa["url.path"].AsString())
	assert.Equal(t, int64(0), sa["rpc.grpc.status_code"].AsInt64())
	assert.Equal(t, int64(1), sa["rpc.message.received"].AsInt64())
	assert.Equal(t, int64(1), sa["rpc.message.sent"].AsInt64())
	assert.Equal(t, "bufnet", sa["server.address"].AsString())
	assert.Equal(t, "grpc://bufnet"+unaryMethod, sa["url.full"].AsString())
	_, hasHTTPStatus := sa["http.response.status_code"]
	assert.False(t, hasHTTPStatus, "a gRPC span must not carry an HTTP status")
	assert.Equal(t, otelcodes.Unset, srv.Status.Code)
	assert.Empty(t, srv.Events, "message events are off by default")

	// Client: named after the service, injected context continued by the server.
	assert.Equal(t, testService_, cli.Name)
	ca := attrs(cli)
	assert.Equal(t, "grpc", ca["rpc.system"].AsString())
	assert.Equal(t, "UnaryCall", ca["rpc.method"].AsString())
	assert.Equal(t, int64(0), ca["rpc.grpc.status_code"].AsInt64())
	assert.Equal(t, "bufnet", ca["server.address"].AsString())
	assert.Equal(t, cli.SpanContext.TraceID(), srv.SpanContext.TraceID())
	assert.Equal(t, cli.SpanContext.SpanID(), srv.Parent.SpanID())
	assert.True(t, srv.Parent.IsRemote())

	// Response metadata as httpmw answers: Root, the caller's Parent and the
	// decision (the caller sent Sampled), and the request id.
	assert.Equal(t, []string{"Root=" + xrayid.FormatTraceID(srv.SpanContext.TraceID()) + ";Parent=" + cli.SpanContext.SpanID().String() + ";Sampled=1"}, header.Get("x-amzn-trace-id"))
	require.Len(t, header.Get("x-request-id"), 1)
	assert.Regexp(t, `^[0-9a-f]{32}$`, header.Get("x-request-id")[0])
}

func TestStatusCodesSetFlagsAndSpanStatus(t *testing.T) {
	e := newEnv(t, envOpts{})
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		t.Run(c.String(), func(t *testing.T) {
			e.rec.ResetSpans()
			_, err := e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{
				ResponseStatus: &testpb.EchoStatus{Code: int32(c), Message: "msg " + c.String()},
			})
			require.Equal(t, c, status.Code(err))
			spans := waitSpans(t, e, 2)
			fault := c == codes.Unknown || c == codes.DeadlineExceeded || c == codes.Unimplemented ||
				c == codes.Internal || c == codes.Unavailable || c == codes.DataLoss
			for _, s := range spans {
				assert.Equal(t, int64(c), attrs(s)["rpc.grpc.status_code"].AsInt64(), s.SpanKind)
				if fault {
					assert.Equal(t, otelcodes.Error, s.Status.Code, s.SpanKind)
					assert.Contains(t, s.Status.Description, "msg "+c.String())
				} else {
					assert.Equal(t, otelcodes.Unset, s.Status.Code, s.SpanKind)
				}
			}
		})
	}
}

func TestIncomingTraceContext(t *testing.T) {
	e := newEnv(t, envOpts{noClientMW: true})
	const root = "1-5759e988-bd862e3fe1be46a994272793"
	const parent = "53995c3f42cd8ad8"
	tests := []struct {
		name, key, value string
		wantTrace        string
		wantParent       string
		wantResp         string
	}{
		{"xray sampled", "x-amzn-trace-id", "Root=" + root + ";Parent=" + parent + ";Sampled=1", "5759e988bd862e3fe1be46a994272793", parent, "Root=" + root + ";Parent=" + parent + ";Sampled=1"},
		{"xray sampling requested", "x-amzn-trace-id", "Root=" + root + ";Parent=" + parent + ";Sampled=?", "5759e988bd862e3fe1be46a994272793", parent, "Root=" + root + ";Parent=" + parent + ";Sampled=1"},
		{"xray no decision field", "x-amzn-trace-id", "Root=" + root + ";Parent=" + parent, "5759e988bd862e3fe1be46a994272793", parent, "Root=" + root + ";Parent=" + parent},
		{"traceparent", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.rec.ResetSpans()
			ctx := metadata.AppendToOutgoingContext(ctxTimeout(t), tc.key, tc.value)
			var header metadata.MD
			_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Header(&header))
			require.NoError(t, err)
			srv := waitSpans(t, e, 1)[0]
			assert.Equal(t, tc.wantTrace, srv.SpanContext.TraceID().String())
			assert.Equal(t, tc.wantParent, srv.Parent.SpanID().String())
			assert.Equal(t, []string{tc.wantResp}, header.Get("x-amzn-trace-id"))
		})
	}
}

func TestRequestID(t *testing.T) {
	var seen []string
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		st := reqstate.From(ctx)
		require.NotNil(t, st)
		seen = append(seen, st.RequestID+"|"+st.Operation)
		return next(ctx, req)
	}
	e := newEnv(t, envOpts{noClientMW: true, unaryServer: []grpc.UnaryServerInterceptor{capture}})
	for _, tc := range []struct{ in, want string }{
		{"req-123_abc.def", "req-123_abc.def"},
		{"svc@host:1/YWJj+ZA==", "svc@host:1/YWJj+ZA=="}, // the one rule httpmw keeps too
		{"bad id with spaces", "generated"},
		{strings.Repeat("a", 129), "generated"},
		{"", "generated"},
	} {
		seen = nil
		ctx := ctxTimeout(t)
		if tc.in != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", tc.in)
		}
		var header metadata.MD
		_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Header(&header))
		require.NoError(t, err)
		require.Len(t, seen, 1)
		got := header.Get("x-request-id")
		require.Len(t, got, 1)
		if tc.want == "generated" {
			assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), got[0])
		} else {
			assert.Equal(t, tc.want, got[0])
		}
		assert.Equal(t, got[0]+"|"+unaryMethod, seen[0])
	}
}

func TestHealthAndReflectionFilteredByDefault(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := e.health.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = e.client.EmptyCall(ctxTimeout(t), &testpb.Empty{}) // Unimplemented: instrumented
	require.Equal(t, codes.Unimplemented, status.Code(err))
	spans := waitSpans(t, e, 2)
	for _, s := range spans {
		assert.Equal(t, int64(codes.Unimplemented), attrs(s)["rpc.grpc.status_code"].AsInt64(), s.Name)
	}
	assert.True(t, grpcmw.DefaultSkip("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))
	assert.True(t, grpcmw.DefaultSkip("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"))
	assert.False(t, grpcmw.DefaultSkip(unaryMethod))
}

func TestWithSkipReplacesDefault(t *testing.T) {
	e := newEnv(t, envOpts{
		server: []grpcmw.Option{grpcmw.WithSkip(grpcmw.Method(unaryMethod))},
		client: []grpcmw.ClientOption{grpcmw.WithSkip()},
	})
	_, err := e.health.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{})
	require.NoError(t, err)
	// Server: health traced, UnaryCall skipped. Client: both traced.
	spans := waitSpans(t, e, 3)
	var names []string
	for _, s := range spans {
		names = append(names, fmt.Sprintf("%s %s", s.SpanKind, s.Name))
	}
	assert.ElementsMatch(t, []string{
		"server /grpc.health.v1.Health/Check", "client grpc.health.v1.Health", "client " + testService_,
	}, names)

	or := grpcmw.Or(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/"), nil)
	assert.True(t, or("/internal.Admin/Drain"))
	assert.True(t, or("/grpc.health.v1.Health/Watch"))
	assert.False(t, or(unaryMethod))
	and := grpcmw.And(grpcmw.MethodPrefix("/internal."), grpcmw.Not(grpcmw.Method("/internal.Admin/Keep")))
	assert.True(t, and("/internal.Admin/Drain"))
	assert.False(t, and("/internal.Admin/Keep"))
	assert.False(t, and(unaryMethod))
	assert.Nil(t, grpcmw.Or(), "Or() matches nothing")
	assert.True(t, grpcmw.And()(unaryMethod), "And() matches everything")
	assert.True(t, grpcmw.Not(nil)(unaryMethod))
}

func TestPanicRecoveredUnaryAndStream(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(bodyPanic)}})
	require.Equal(t, codes.Internal, status.Code(err))
	assert.Equal(t, "internal error", status.Convert(err).Message(), "the panic value must not reach the caller")
	checkPanicSpan(t, waitSpans(t, e, 2), "UnaryCall")

	e.rec.ResetSpans()
	stream, err := e.client.StreamingOutputCall(ctxTimeout(t), &testpb.StreamingOutputCallRequest{
		ResponseParameters: []*testpb.ResponseParameters{{Size: 1}},
		Payload:            &testpb.Payload{Body: []byte(bodyPanic)},
	})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)
	_, err = stream.Recv()
	require.Equal(t, codes.Internal, status.Code(err))
	checkPanicSpan(t, waitSpans(t, e, 2), "StreamingOutputCall")
}

func checkPanicSpan(t *testing.T, spans tracetest.SpanStubs, method string) {
	t.Helper()
	srv := spanOfKind(t, spans, trace.SpanKindServer)
	assert.Equal(t, int64(codes.Internal), attrs(srv)["rpc.grpc.status_code"].AsInt64())
	assert.Equal(t, otelcodes.Error, srv.Status.Code)
	assert.Equal(t, "panic: boom: panic", srv.Status.Description)
	require.Len(t, srv.Events, 1)
	ev := srv.Events[0]
	assert.Equal(t, "exception", ev.Name)
	ea := map[attribute.Key]string{}
	for _, kv := range ev.Attributes {
		ea[kv.Key] = kv.Value.String()
	}
	assert.Equal(t, "panic", ea["exception.type"])
	assert.Equal(t, "boom: panic", ea["exception.message"])
	assert.Contains(t, ea["exception.stacktrace"], "grpcmw_test.steer", "stack shows the panic site")
	assert.Contains(t, ea["exception.stacktrace"], method)
	cli := spanOfKind(t, spans, trace.SpanKindClient)
	assert.Equal(t, int64(codes.Internal), attrs(cli)["rpc.grpc.status_code"].AsInt64())
}

// TestRePanic: WithRePanic given to the server handler governs the recovery
// interceptor next to it, which records and then panics again (without it:
// codes.Internal). Driven directly so the test process survives.
func TestRePanic(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	ic := grpcmw.UnaryServerRecovery(sdk)
	boom := func(context.Context, any) (any, error) { panic("again") }
	for _, rePanic := range []bool{false, true} {
		rec.ResetSpans()
		h := grpcmw.NewServerHandler(sdk, grpcmw.WithRePanic(rePanic))
		ctx := h.TagRPC(incomingCtx(), &stats.RPCTagInfo{FullMethodName: unaryMethod})
		call := func() {
			_, err := ic(ctx, nil, &grpc.UnaryServerInfo{FullMethod: unaryMethod}, boom)
			assert.Equal(t, codes.Internal, status.Code(err))
		}
		if rePanic {
			assert.PanicsWithValue(t, "again", call)
		} else {
			assert.NotPanics(t, call)
		}
		h.HandleRPC(ctx, &stats.End{Error: status.Error(codes.Internal, "")})
		spans := rec.Spans()
		require.Len(t, spans, 1)
		require.Len(t, spans[0].Events, 1)
		assert.Equal(t, "exception", spans[0].Events[0].Name)
	}
}

func TestMessageEventsOption(t *testing.T) {
	e := newEnv(t, envOpts{server: []grpcmw.Option{grpcmw.WithMessageEvents(true)}})
	stream, err := e.client.FullDuplexCall(ctxTimeout(t))
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("abc")}}))
		_, err := stream.Recv()
		require.NoError(t, err)
	}
	require.NoError(t, stream.CloseSend())
	_, err = stream.Recv()
	require.ErrorIs(t, err, ioEOF)
	spans := waitSpans(t, e, 2)
	srv := spanOfKind(t, spans, trace.SpanKindServer)
	var sent, recv int
	for _, ev := range srv.Events {
		require.Equal(t, "message", ev.Name)
		for _, kv := range ev.Attributes {
			if kv.Key == "message.type" && kv.Value.AsString() == "SENT" {
				sent++
			} else if kv.Key == "message.type" && kv.Value.AsString() == "RECEIVED" {
				recv++
			}
		}
	}
	assert.Equal(t, 3, sent)
	assert.Equal(t, 3, recv)
	assert.Empty(t, spanOfKind(t, spans, trace.SpanKindClient).Events, "client option not set")
}

// TestUnknownMethodEndsSpan: grpc-go answers unknown services without
// beginning the RPC; the span must end anyway, as Unimplemented (a fault).
func TestUnknownMethodEndsSpan(t *testing.T) {
	e := newEnv(t, envOpts{})
	err := e.conn.Invoke(ctxTimeout(t), "/no.Such/Method", &testpb.Empty{}, &testpb.Empty{})
	require.Equal(t, codes.Unimplemented, status.Code(err))
	spans := waitSpans(t, e, 2)
	srv := spanOfKind(t, spans, trace.SpanKindServer)
	assert.Equal(t, "UnknownMethod", srv.Name, "names off the wire stay out of span names")
	assert.Equal(t, "/no.Such/Method", attrs(srv)["url.path"].AsString())
	assert.Equal(t, int64(codes.Unimplemented), attrs(srv)["rpc.grpc.status_code"].AsInt64())
	assert.Equal(t, otelcodes.Error, srv.Status.Code)
}
