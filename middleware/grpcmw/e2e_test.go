package grpcmw_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/xrayid"
	"github.com/o11y-go/o11y/middleware/grpcmw"
)

// TestEndToEndTCP runs unary and bidi calls over a real TCP connection on
// loopback and checks the address attributes of both spans.
func TestEndToEndTCP(t *testing.T) {
	e := newEnv(t, envOpts{tcp: true, client: []grpcmw.ClientOption{grpcmw.WithPeerService("orders")}})
	_, port, err := net.SplitHostPort(e.addr)
	require.NoError(t, err)

	_, err = e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{ResponseSize: 100})
	require.NoError(t, err)
	spans := waitSpans(t, e, 2)
	srv, cli := spanOfKind(t, spans, trace.SpanKindServer), spanOfKind(t, spans, trace.SpanKindClient)
	ca, sa := attrs(cli), attrs(srv)
	assert.Equal(t, "orders", cli.Name, "WithPeerService names the client span")
	assert.Equal(t, "orders", ca["peer.service"].AsString())
	assert.Equal(t, "127.0.0.1", ca["server.address"].AsString())
	assert.Equal(t, port, strconv.FormatInt(ca["server.port"].AsInt64(), 10))
	assert.Equal(t, "grpc://"+e.addr+unaryMethod, ca["url.full"].AsString())
	assert.Equal(t, "POST", ca["http.request.method"].AsString())
	assert.Equal(t, "127.0.0.1", sa["server.address"].AsString())
	assert.Equal(t, "127.0.0.1", sa["network.peer.address"].AsString())
	assert.Contains(t, sa["user_agent.original"].AsString(), "grpc-go/")
	assert.Equal(t, cli.SpanContext.SpanID(), srv.Parent.SpanID())

	e.rec.ResetSpans()
	s, err := e.client.FullDuplexCall(ctxTimeout(t))
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		require.NoError(t, s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: make([]byte, 1000)}}))
	}
	require.NoError(t, s.CloseSend())
	n := 0
	for {
		_, err := s.Recv()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 10, n)
	spans = waitSpans(t, e, 2)
	sa = attrs(spanOfKind(t, spans, trace.SpanKindServer))
	assert.Equal(t, int64(10), sa["rpc.message.sent"].AsInt64())
	assert.Equal(t, int64(10), sa["rpc.message.received"].AsInt64())
}

// TestClientInjectsMetadata: the outgoing metadata carries the client span's
// context in both X-Ray and W3C form.
func TestClientInjectsMetadata(t *testing.T) {
	var got metadata.MD
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		got, _ = metadata.FromIncomingContext(ctx)
		return next(ctx, req)
	}
	e := newEnv(t, envOpts{bareServer: true, unaryServer: []grpc.UnaryServerInterceptor{capture}})
	// Metadata the application set itself must survive the injection.
	ctx := metadata.AppendToOutgoingContext(ctxTimeout(t), "x-app", "1")
	_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{})
	require.NoError(t, err)
	cli := waitSpans(t, e, 1)[0]
	sc := cli.SpanContext
	assert.Equal(t, []string{"1"}, got.Get("x-app"))
	assert.Equal(t, []string{"Root=" + xrayid.FormatTraceID(sc.TraceID()) + ";Parent=" + sc.SpanID().String() + ";Sampled=1"}, got.Get("x-amzn-trace-id"))
	assert.Equal(t, []string{"00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"}, got.Get("traceparent"))
}

// TestClientReplacesForwardedTraceMetadata: a proxy that forwards its
// incoming metadata must not send the caller's stale trace header first.
func TestClientReplacesForwardedTraceMetadata(t *testing.T) {
	var got metadata.MD
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		got, _ = metadata.FromIncomingContext(ctx)
		return next(ctx, req)
	}
	e := newEnv(t, envOpts{bareServer: true, unaryServer: []grpc.UnaryServerInterceptor{capture}})
	stale := metadata.Pairs(
		"x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"traceparent", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
		"x-app", "kept")
	ctx := metadata.NewOutgoingContext(ctxTimeout(t), stale)
	_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{})
	require.NoError(t, err)
	sc := waitSpans(t, e, 1)[0].SpanContext
	assert.Equal(t, []string{"kept"}, got.Get("x-app"))
	require.Len(t, got.Get("x-amzn-trace-id"), 1)
	assert.Contains(t, got.Get("x-amzn-trace-id")[0], ";Parent="+sc.SpanID().String())
	require.Len(t, got.Get("traceparent"), 1)
	assert.Contains(t, got.Get("traceparent")[0], sc.SpanID().String())
}

// TestDisabledSDK: with a disabled SDK (no-op tracer, no metrics) and with a
// nil SDK the handlers and interceptors stay out of the way.
func TestDisabledSDK(t *testing.T) {
	defer goleak.VerifyNone(t)
	sdk, err := o11y.Start(context.Background(), o11y.Config{Disable: true, DisableGlobals: true, Output: discard{}})
	require.NoError(t, err)
	defer sdk.Shutdown(context.Background())
	for _, s := range []*o11y.SDK{sdk, nil} {
		lis := bufconn.Listen(1 << 16)
		srv := grpc.NewServer(grpcmw.ServerOptions(s)...)
		testpb.RegisterTestServiceServer(srv, testService{})
		go srv.Serve(lis)
		conn, err := grpc.NewClient("passthrough:///x", grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithStatsHandler(grpcmw.NewClientHandler(s)))
		require.NoError(t, err)
		var header metadata.MD
		_, err = testpb.NewTestServiceClient(conn).UnaryCall(ctxTimeout(t),
			&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(bodyPanic)}}, grpc.Header(&header))
		assert.Equal(t, codes.Internal, status.Code(err), "recovery works without tracing")
		assert.Empty(t, header.Get("x-amzn-trace-id"), "no trace, no trace header")
		assert.Len(t, header.Get("x-request-id"), 1)
		conn.Close()
		srv.Stop()
	}
}
