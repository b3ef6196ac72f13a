package mwcore

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/tracing"
)

// MaxTraceHeaderLen bounds what [AppendTraceHeader] appends.
const MaxTraceHeaderLen = 74 // Root=1-xxxxxxxx-x{24};Parent=x{16};Sampled=1

// AppendTraceHeader appends the X-Amzn-Trace-Id value a server returns once
// its span sc exists, the same for HTTP and gRPC: Root=<trace id>, then
// ;Parent=<the incoming Parent> when the caller sent one and ;Sampled=<the
// decision> when the caller sent a Sampled field (Sampled=? is how a caller
// asks for the decision), following the X-Ray SDK's HTTP handler.
//
// ctx is the server's context after extraction: the incoming header is the
// one the SDK's X-Ray propagator extracted. raw is the incoming header value;
// it is only parsed when that propagator is not configured, and only used
// when its trace id is sc's. With no valid trace id nothing is appended.
// It does not allocate.
func AppendTraceHeader(dst []byte, ctx context.Context, sc trace.SpanContext, raw string) []byte {
	if in, ok := tracing.IncomingHeader(ctx); ok {
		return in.AppendResponse(dst, sc)
	}
	if raw != "" {
		if in, ok := tracing.ParseHeader(raw); ok && in.TraceID == sc.TraceID() {
			return in.AppendResponse(dst, sc)
		}
	}
	return tracing.Header{}.AppendResponse(dst, sc)
}
