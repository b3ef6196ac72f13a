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
	"github.com/o11y-go/o11y/internal/xrayid"
)

// maxStackBytes bounds the stack trace recorded for a panic.
const maxStackBytes = 8 << 10

// errPanicMessage is what the caller sees: the panic value stays on the span
// and in the log, never on the wire.
const errPanicMessage = "internal error"

// recoverer is shared by the unary and stream interceptors.
type recoverer struct {
	cfg    *config
	logger *slog.Logger
}

func newRecoverer(sdk *o11y.SDK, opts []Option) *recoverer {
	if sdk == nil {
		sdk = o11y.Default()
	}
	return &recoverer{cfg: newConfig(opts), logger: sdk.Logger()}
}

// UnaryServerRecovery returns the unary half of what a stats handler cannot
// do: it recovers a panicking handler — recording the panic value and stack
// as an "exception" event on the RPC's span, marking the span as a fault,
// logging one Error line and answering codes.Internal — and it sends the
// x-amzn-trace-id response metadata ("Root=<trace id>", plus ";Sampled=1|0"
// only when the caller sent "Sampled=?") and x-request-id. The response
// metadata needs [NewServerHandler] registered on the same server.
func UnaryServerRecovery(sdk *o11y.SDK, opts ...Option) grpc.UnaryServerInterceptor {
	r := newRecoverer(sdk, opts)
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
func StreamServerRecovery(sdk *o11y.SDK, opts ...Option) grpc.StreamServerInterceptor {
	r := newRecoverer(sdk, opts)
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
	return []grpc.ServerOption{
		grpc.StatsHandler(NewServerHandler(sdk, opts...)),
		grpc.ChainUnaryInterceptor(UnaryServerRecovery(sdk, opts...)),
		grpc.ChainStreamInterceptor(StreamServerRecovery(sdk, opts...)),
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
	if st := stateFrom(ctx); st != nil {
		st.panicked.Store(true)
		method = st.fullMethod
	} else if m, ok := grpc.Method(ctx); ok {
		method = m
	}
	r.logger.LogAttrs(ctx, slog.LevelError, "grpc handler panic",
		slog.String("rpc.method", method),
		slog.String("panic", truncate(msg, 1024)),
		slog.String("stack", string(stack)))
	if r.cfg.repanic {
		panic(v)
	}
	return status.Error(codes.Internal, errPanicMessage)
}

// responseMD builds the response metadata for ctx's RPC: x-amzn-trace-id as
// aws-xray-sdk-go sends it on gRPC, and the request id.
func responseMD(ctx context.Context) (metadata.MD, bool) {
	st := stateFrom(ctx)
	if st == nil || st.span == nil {
		return nil, false
	}
	// The values live in st (never reused); grpc.SetHeader copies the map.
	st.respVals[0] = st.req.RequestID
	md := metadata.MD{requestIDKey: st.respVals[0:1:1]}
	sc := st.span.SpanContext()
	if sc.HasTraceID() {
		buf := st.respBuf[:0]
		buf = append(buf, "Root="...)
		buf = xrayid.AppendTraceID(buf, sc.TraceID())
		if st.sampleReq {
			buf = append(buf, ";Sampled="...)
			if sc.IsSampled() {
				buf = append(buf, '1')
			} else {
				buf = append(buf, '0')
			}
		}
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
