package grpcmw_test

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"

	"github.com/o11y-go/o11y/internal/xrayid"
)

// xrayDoc is the part of an aws-xray-sdk-go segment document these tests read.
type xrayDoc struct {
	TraceID     string            `json:"trace_id"`
	ID          string            `json:"id"`
	ParentID    string            `json:"parent_id"`
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Error       bool              `json:"error"`
	Fault       bool              `json:"fault"`
	Subsegments []json.RawMessage `json:"subsegments"`
}

// xrayDaemon points aws-xray-sdk-go at a UDP listener on loopback with a
// sample-everything local strategy (no poller goroutines) and returns a
// function that waits for the next segment document.
func xrayDaemon(t *testing.T) func() xrayDoc {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	strategy, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1.0},"rules":[]}`))
	require.NoError(t, err)
	xray.SetLogger(xraylog.NullLogger)
	require.NoError(t, xray.Configure(xray.Config{DaemonAddr: pc.LocalAddr().String(), SamplingStrategy: strategy}))
	return func() xrayDoc {
		t.Helper()
		buf := make([]byte, 64<<10)
		require.NoError(t, pc.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, _, err := pc.ReadFrom(buf)
		require.NoError(t, err, "no segment from aws-xray-sdk-go")
		_, body, ok := bytes.Cut(buf[:n], []byte("\n")) // {"format":"json","version":1}\n{...}
		require.True(t, ok, "datagram %q", buf[:n])
		var d xrayDoc
		require.NoError(t, json.Unmarshal(body, &d), "%s", body)
		return d
	}
}

// TestInteropXRayClientToOurServer: aws-xray-sdk-go's unary client
// interceptor calls our server; our server span continues its trace with the
// client subsegment as parent.
func TestInteropXRayClientToOurServer(t *testing.T) {
	next := xrayDaemon(t)
	e := newEnv(t, envOpts{noClientMW: true, tcp: true})
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(xray.UnaryClientInterceptor()))
	require.NoError(t, err)
	defer conn.Close()

	ctx, seg := xray.BeginSegment(ctxTimeout(t), "caller")
	var header metadata.MD
	_, err = testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.Header(&header))
	require.NoError(t, err)
	seg.Close(nil)

	doc := next()
	assert.Equal(t, "caller", doc.Name)
	require.Len(t, doc.Subsegments, 1)
	var sub xrayDoc
	require.NoError(t, json.Unmarshal(doc.Subsegments[0], &sub))
	assert.Equal(t, "remote", sub.Namespace)

	srv := waitSpans(t, e, 1)[0]
	assert.Equal(t, trace.SpanKindServer, srv.SpanKind)
	assert.Equal(t, doc.TraceID, xrayid.FormatTraceID(srv.SpanContext.TraceID()), "trace id continued")
	assert.Equal(t, sub.ID, srv.Parent.SpanID().String(), "parent is the X-Ray client subsegment")
	assert.True(t, srv.SpanContext.IsSampled())
	assert.Equal(t, []string{"Root=" + doc.TraceID + ";Parent=" + sub.ID + ";Sampled=1"}, header.Get("x-amzn-trace-id"))
}

// TestInteropOurClientToXRayServer: our client handler calls a server using
// aws-xray-sdk-go's unary server interceptor; its segment continues our
// trace with our client span as parent.
func TestInteropOurClientToXRayServer(t *testing.T) {
	next := xrayDaemon(t)
	e := newEnv(t, envOpts{tcp: true, bareServer: true, unaryServer: []grpc.UnaryServerInterceptor{xray.UnaryServerInterceptor()}})
	ctx, parent := e.sdk.Tracer().Start(ctxTimeout(t), "caller")
	_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{})
	require.NoError(t, err)
	parent.End()

	doc := next()
	assert.Equal(t, "grpc.testing.TestService", doc.Name)
	spans := waitSpans(t, e, 2)
	cli := spanOfKind(t, spans, trace.SpanKindClient)
	assert.Equal(t, xrayid.FormatTraceID(cli.SpanContext.TraceID()), doc.TraceID, "trace id continued")
	assert.Equal(t, cli.SpanContext.SpanID().String(), doc.ParentID, "parent is our client span")
	assert.Equal(t, parent.SpanContext().SpanID(), cli.Parent.SpanID())
	assert.False(t, doc.Error || doc.Fault)
}
