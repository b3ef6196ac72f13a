package grpcmw

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/mwcore"
	"github.com/o11y-go/o11y/logging"
)

// maxStackBytes bounds the stack trace recorded for a panic.
const maxStackBytes = 8 << 10

// errPanicMessage is what the caller sees: the panic value stays on the span
// and in the log, never on the wire.
const errPanicMessage = "internal error"

// recoverer is shared by the unary and stream interceptors. It follows the
// options of the server handler that tagged the RPC, else those of h (the
// handler [ServerOptions] built it with; nil for a bare interceptor).
type recoverer struct {
	h      *handler
	logger *slog.Logger
	logh   *logging.Handler // flushed after the panic's line
}

func newRecoverer(sdk *o11y.SDK, h *handler) *recoverer {
	if sdk == nil {
		sdk = o11y.Default()
	}
	return &recoverer{h: h, logger: sdk.Logger(), logh: sdk.LogHandler()}
}

// UnaryServerRecovery returns the unary half of what a stats handler cannot
// do: it recovers a panicking handler — recording the panic value and stack
// as an "exception" event on the RPC's span, marking the span as a fault,
// logging one Error line and answering codes.Internal — and it sends the
// x-amzn-trace-id response metadata (as httpmw does: "Root=<trace id>",
// plus ";Parent=" when the caller sent one and ";Sampled=1|0" when the
// caller sent a Sampled field, "Sampled=?" included) and the request id. It
// takes no options: the response metadata and [WithRePanic] come from the
// [NewServerHandler] registered on the same server (without one it only
// recovers). [ServerOptions] sets up both.
func UnaryServerRecovery(sdk *o11y.SDK) grpc.UnaryServerInterceptor {
	return unaryRecovery(newRecoverer(sdk, nil))
}

func unaryRecovery(r *recoverer) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
		if md, ok := responseMD(ctx); ok {
			_ = grpc.SetHeader(ctx, md) // fails only if headers went out already
		}
		defer func() {
			if v := recover(); v != nil {
				err = r.recovered(ctx, v)
			}
		}()
		return next(ctx, req)
	}
}

// StreamServerRecovery is [UnaryServerRecovery] for streaming handlers.
func StreamServerRecovery(sdk *o11y.SDK) grpc.StreamServerInterceptor {
	return streamRecovery(newRecoverer(sdk, nil))
}

func streamRecovery(r *recoverer) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
		ctx := ss.Context()
		if md, ok := responseMD(ctx); ok {
			_ = ss.SetHeader(md)
		}
		defer func() {
			if v := recover(); v != nil {
				err = r.recovered(ctx, v)
			}
		}()
		return next(srv, ss)
	}
}

// ServerOptions returns everything a server needs in one slice: the server
// stats handler and both recovery interceptors (chained, so further
// grpc.ChainUnaryInterceptor calls add to them).
//
//	srv := grpc.NewServer(grpcmw.ServerOptions(sdk)...)
func ServerOptions(sdk *o11y.SDK, opts ...Option) []grpc.ServerOption {
	h := newServerHandler(sdk, opts)
	r := newRecoverer(sdk, h)
	return []grpc.ServerOption{
		grpc.StatsHandler(h),
		grpc.ChainUnaryInterceptor(unaryRecovery(r)),
		grpc.ChainStreamInterceptor(streamRecovery(r)),
	}
}

// recovered runs inside the deferred function, still on the panicking
// goroutine, so debug.Stack shows the panic site.
func (r *recoverer) recovered(ctx context.Context, v any) error {
	stack := debug.Stack()
	if len(stack) > maxStackBytes {
		stack = stack[:maxStackBytes]
	}
	msg := fmt.Sprint(v)
	typ := "panic"
	if e, ok := v.(error); ok {
		typ = fmt.Sprintf("panic: %T", e)
	}
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		span.AddEvent("exception", trace.WithAttributes(
			attribute.String("exception.type", typ),
			attribute.String("exception.message", msg),
			attribute.String("exception.stacktrace", string(stack)),
			attribute.Bool("exception.escaped", true),
		))
		span.SetStatus(otelcodes.Error, "panic: "+truncate(msg, statusMessageSize))
	}
	method := ""
	h := r.h
	if st := stateFrom(ctx); st != nil {
		st.panicked.Store(true)
		method, h = st.fullMethod, st.h
	} else if m, ok := grpc.Method(ctx); ok {
		method = m
	}
	r.logger.LogAttrs(ctx, slog.LevelError, "grpc handler panic",
		slog.String("rpc.method", method),
		slog.String("panic", truncate(msg, 1024)),
		slog.String("stack", string(stack)))
	// The panic's line is out before the re-panic or the Internal status.
	_ = r.logh.Flush(context.Background())
	if h != nil && h.rePanic {
		panic(v)
	}
	return status.Error(codes.Internal, errPanicMessage)
}

// responseMD builds the response metadata for ctx's RPC: the request id and
// x-amzn-trace-id, built as the HTTP middleware builds its response header.
func responseMD(ctx context.Context) (metadata.MD, bool) {
	st := stateFrom(ctx)
	if st == nil || st.span == nil || st.h == nil || st.h.client {
		return nil, false
	}
	// The values live in st (never reused); grpc.SetHeader copies the map.
	st.respVals[0] = st.req.RequestID
	md := metadata.MD{st.h.reqIDKey: st.respVals[0:1:1]}
	if buf := mwcore.AppendTraceHeader(st.respBuf[:0], ctx, st.span.SpanContext(), st.xray); len(buf) > 0 {
		st.respVals[1] = bytesToString(buf)
		md[traceHeaderKey] = st.respVals[1:2:2]
	}
	return md, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
