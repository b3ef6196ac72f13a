package grpcmw_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

var ioEOF = io.EOF

func params(sizes ...int32) []*testpb.ResponseParameters {
	var out []*testpb.ResponseParameters
	for _, s := range sizes {
		out = append(out, &testpb.ResponseParameters{Size: s})
	}
	return out
}

// TestStreamingKinds drives each streaming kind to a normal end and to an
// error, and checks codes and message counts on both spans.
func TestStreamingKinds(t *testing.T) {
	e := newEnv(t, envOpts{})
	type result struct {
		code           codes.Code
		sent, received int64 // server side
	}
	tests := []struct {
		name   string
		method string
		run    func(t *testing.T, ctx context.Context) error
		want   result
	}{
		{"server stream EOF", serverStream, func(t *testing.T, ctx context.Context) error {
			s, err := e.client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: params(1, 2, 3)})
			require.NoError(t, err)
			for {
				if _, err := s.Recv(); err != nil {
					return err
				}
			}
		}, result{codes.OK, 3, 1}},
		{"server stream error", serverStream, func(t *testing.T, ctx context.Context) error {
			s, err := e.client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{
				ResponseParameters: params(1, 1),
				ResponseStatus:     &testpb.EchoStatus{Code: int32(codes.Unavailable), Message: "down"},
			})
			require.NoError(t, err)
			for {
				if _, err := s.Recv(); err != nil {
					return err
				}
			}
		}, result{codes.Unavailable, 2, 1}},
		{"client stream EOF", clientStream, func(t *testing.T, ctx context.Context) error {
			s, err := e.client.StreamingInputCall(ctx)
			require.NoError(t, err)
			for i := 0; i < 4; i++ {
				require.NoError(t, s.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}))
			}
			resp, err := s.CloseAndRecv()
			if err == nil {
				assert.Equal(t, int32(4), resp.GetAggregatedPayloadSize())
				return io.EOF
			}
			return err
		}, result{codes.OK, 1, 4}},
		{"bidi EOF", bidiStream, func(t *testing.T, ctx context.Context) error {
			s, err := e.client.FullDuplexCall(ctx)
			require.NoError(t, err)
			for i := 0; i < 5; i++ {
				require.NoError(t, s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}))
				_, err := s.Recv()
				require.NoError(t, err)
			}
			require.NoError(t, s.CloseSend())
			_, err = s.Recv()
			return err
		}, result{codes.OK, 5, 5}},
		{"bidi error", bidiStream, func(t *testing.T, ctx context.Context) error {
			s, err := e.client.FullDuplexCall(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}))
			_, err = s.Recv()
			require.NoError(t, err)
			require.NoError(t, s.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.PermissionDenied)}}))
			_, err = s.Recv()
			return err
		}, result{codes.PermissionDenied, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.rec.ResetSpans()
			err := tc.run(t, ctxTimeout(t))
			if tc.want.code == codes.OK {
				require.ErrorIs(t, err, io.EOF)
			} else {
				require.Equal(t, tc.want.code, status.Code(err))
			}
			spans := waitSpans(t, e, 2)
			srv, cli := spanOfKind(t, spans, trace.SpanKindServer), spanOfKind(t, spans, trace.SpanKindClient)
			assert.Equal(t, tc.method, srv.Name)
			sa, ca := attrs(srv), attrs(cli)
			assert.Equal(t, int64(tc.want.code), sa["rpc.grpc.status_code"].AsInt64())
			assert.Equal(t, int64(tc.want.code), ca["rpc.grpc.status_code"].AsInt64())
			assert.Equal(t, tc.want.sent, sa["rpc.message.sent"].AsInt64(), "server sent")
			assert.Equal(t, tc.want.received, sa["rpc.message.received"].AsInt64(), "server received")
			assert.Equal(t, tc.want.sent, ca["rpc.message.received"].AsInt64(), "client received")
			assert.Equal(t, tc.want.received, ca["rpc.message.sent"].AsInt64(), "client sent")
			assert.Equal(t, cli.SpanContext.SpanID(), srv.Parent.SpanID())
		})
	}
}

// TestCancellationEndsSpans cancels the client while the server handler is
// blocked, for every RPC kind: both spans end with Canceled and no goroutine
// stays behind (checked by the env's cleanup).
func TestCancellationEndsSpans(t *testing.T) {
	e := newEnv(t, envOpts{})
	block := &testpb.Payload{Body: []byte(bodyBlock)}
	start := map[string]func(ctx context.Context) error{
		unaryMethod: func(ctx context.Context) error {
			_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: block})
			return err
		},
		serverStream: func(ctx context.Context) error {
			s, err := e.client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{Payload: block})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		clientStream: func(ctx context.Context) error {
			s, err := e.client.StreamingInputCall(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&testpb.StreamingInputCallRequest{Payload: block}); err != nil {
				return err
			}
			_, err = s.CloseAndRecv()
			return err
		},
		bidiStream: func(ctx context.Context) error {
			s, err := e.client.FullDuplexCall(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: block}); err != nil {
				return err
			}
			_, err = s.Recv() // never answered; the cancel ends it
			return err
		},
	}
	for method, run := range start {
		t.Run(method, func(t *testing.T) {
			e.rec.ResetSpans()
			drainBlocked()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); waitBlocked(t); cancel() }()
			err := run(ctx)
			<-done
			require.Equal(t, codes.Canceled, status.Code(err))
			spans := waitSpans(t, e, 2)
			for _, s := range spans {
				assert.Equal(t, int64(codes.Canceled), attrs(s)["rpc.grpc.status_code"].AsInt64(), s.SpanKind.String()+" "+s.Name)
			}
			assert.Equal(t, method, spanOfKind(t, spans, trace.SpanKindServer).Name)
		})
	}
}

// TestDeadlineEndsSpans: the server sees DeadlineExceeded (a fault) when the
// caller's deadline passes during a unary call and during a bidi stream.
func TestDeadlineEndsSpans(t *testing.T) {
	e := newEnv(t, envOpts{})
	block := &testpb.Payload{Body: []byte(bodyBlock)}
	t.Run("unary", func(t *testing.T) {
		err := withDeadline(t, e, func(ctx context.Context) error {
			_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: block})
			return err
		})
		require.Equal(t, codes.DeadlineExceeded, status.Code(err))
		for _, s := range waitSpans(t, e, 2) {
			assert.Equal(t, int64(codes.DeadlineExceeded), attrs(s)["rpc.grpc.status_code"].AsInt64(), s.SpanKind.String())
			assert.Equal(t, "Error", s.Status.Code.String(), s.SpanKind.String())
		}
	})
	t.Run("bidi", func(t *testing.T) {
		err := withDeadline(t, e, func(ctx context.Context) error {
			s, err := e.client.FullDuplexCall(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: block}); err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		})
		require.Equal(t, codes.DeadlineExceeded, status.Code(err))
		for _, sp := range waitSpans(t, e, 2) {
			assert.Equal(t, int64(codes.DeadlineExceeded), attrs(sp)["rpc.grpc.status_code"].AsInt64(), sp.SpanKind.String())
		}
	})
}

// withDeadline runs call under a deadline that must pass while the server
// handler is blocked. If the machine is so loaded that the handler had not
// even started before the deadline, it tries again with a longer one, so
// the test checks what is reported, not how fast the machine is.
func withDeadline(t *testing.T, e *env, call func(ctx context.Context) error) error {
	t.Helper()
	for d := 300 * time.Millisecond; ; d *= 4 {
		e.rec.ResetSpans()
		drainBlocked()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		err := call(ctx)
		cancel()
		select {
		case <-blocked:
			return err
		default:
		}
		if d > 5*time.Second {
			t.Fatalf("the server handler never started within %v", d)
		}
		e.cliTrack.waitIdle(t)
		e.srvTrack.waitIdle(t)
	}
}

// TestServerStopEndsSpans: a stream in flight when the server stops still
// ends its spans.
func TestServerStopEndsSpans(t *testing.T) {
	e := newEnv(t, envOpts{tcp: true})
	s, err := e.client.FullDuplexCall(ctxTimeout(t))
	require.NoError(t, err)
	require.NoError(t, s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte("x")}}))
	_, err = s.Recv()
	require.NoError(t, err)
	require.NoError(t, e.conn.Close()) // client goes away mid-stream
	spans := waitSpans(t, e, 2)
	srv := spanOfKind(t, spans, trace.SpanKindServer)
	assert.Equal(t, bidiStream, srv.Name)
	assert.NotEqual(t, int64(codes.OK), attrs(srv)["rpc.grpc.status_code"].AsInt64())
}
