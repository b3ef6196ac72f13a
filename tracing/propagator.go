package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// XRayPropagator propagates the X-Amzn-Trace-Id header. The zero value is
// ready to use and safe for concurrent use.
//
// Extract is tolerant (see [ParseHeader]) and understands "no decision": a
// header with Sampled=? or without Sampled keeps its trace id but lets the
// local sampler decide ([ParentBased]); a Root-only header (ALB) continues
// the trace through [NewIDGenerator] with no parent span. Inject writes
// Root=…;Parent=<current span>;Sampled=1|0 plus the extra fields (Lineage,
// CalledFrom, …) that came in with the same trace, within [MaxHeaderLen].
//
// When a W3C traceparent was extracted before it (as [NewPropagator]
// arranges), a header with a Parent replaces that span context, while a
// Root-only header leaves it alone: AWS services rewrite X-Amzn-Trace-Id
// to point at their own segments, and ALB invents a Root-only header for
// requests that arrive with traceparent only.
type XRayPropagator struct{}

var _ propagation.TextMapPropagator = XRayPropagator{}

// incomingKey finds the *incoming node of a context.
type incomingKey struct{}

// incoming is what Extract stores: one allocation that is at the same time
// the context node answering incomingKey (so IncomingHeader works in every
// descendant context, also below the server span) and, through its span
// field, the remote parent span placed in OTel's span slot. Together with
// OTel's own context node that is all Extract allocates (TestAllocBudgets).
type incoming struct {
	context.Context
	hdr  Header
	span remoteSpan
}

// Value answers incomingKey and delegates everything else, so cancellation
// and other values flow through unchanged.
func (in *incoming) Value(key any) any {
	if key == (incomingKey{}) {
		return in
	}
	return in.Context.Value(key)
}

func (in *incoming) String() string { return "tracing.incoming(X-Amzn-Trace-Id)" }

// remoteSpan is the non-recording remote parent: a view of in.hdr, so the
// span context is not stored twice. For a Root-only header its SpanContext
// is invalid (there is no parent span); the ID generator reads the trace id
// from in.
type remoteSpan struct {
	embedded.Span
	in *incoming
}

var _ trace.Span = (*remoteSpan)(nil)

// SpanContext returns the remote span context: the header's trace id,
// Parent and sampled flag, or the invalid span context without Parent.
func (s *remoteSpan) SpanContext() trace.SpanContext {
	h := &s.in.hdr
	if !h.ParentID.IsValid() {
		return trace.SpanContext{}
	}
	var flags trace.TraceFlags
	if h.Sampled == DecisionSampled {
		flags = trace.FlagsSampled
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    h.TraceID,
		SpanID:     h.ParentID,
		TraceFlags: flags,
		Remote:     true,
	})
}

// The rest of trace.Span: a remote parent records nothing.

func (*remoteSpan) IsRecording() bool                       { return false }
func (*remoteSpan) End(...trace.SpanEndOption)              {}
func (*remoteSpan) AddEvent(string, ...trace.EventOption)   {}
func (*remoteSpan) AddLink(trace.Link)                      {}
func (*remoteSpan) RecordError(error, ...trace.EventOption) {}
func (*remoteSpan) SetStatus(codes.Code, string)            {}
func (*remoteSpan) SetName(string)                          {}
func (*remoteSpan) SetAttributes(...attribute.KeyValue)     {}

// TracerProvider returns a no-op provider, like the OTel API's own
// non-recording spans.
func (*remoteSpan) TracerProvider() trace.TracerProvider { return noop.NewTracerProvider() }

// incomingParent returns the incoming header when the span slot of ctx
// holds the remote parent Extract made (not a span started since, nor a
// parent from another propagator, nor WithNewRoot's empty one).
func incomingParent(ctx context.Context) *incoming {
	if ctx == nil {
		return nil
	}
	if s, ok := trace.SpanFromContext(ctx).(*remoteSpan); ok {
		return s.in
	}
	return nil
}

func incomingFrom(ctx context.Context) *incoming {
	if ctx == nil {
		return nil
	}
	in, _ := ctx.Value(incomingKey{}).(*incoming)
	return in
}

// IncomingHeader returns the X-Amzn-Trace-Id header [XRayPropagator]
// extracted into ctx or one of its ancestors, so a server can build its
// response header with [Header.AppendResponse] (the middleware in
// middleware/httpmw and middleware/grpcmw does).
func IncomingHeader(ctx context.Context) (Header, bool) {
	if in := incomingFrom(ctx); in != nil {
		return in.hdr, true
	}
	return Header{}, false
}

// Extract reads X-Amzn-Trace-Id (or x-amzn-trace-id) from carrier. A
// missing, malformed or oversized header returns ctx unchanged (a new trace
// starts); it never panics. Its allocation budget is pinned by TestAllocBudgets.
func (XRayPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if carrier == nil {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	v := carrier.Get(HeaderName)
	if v == "" {
		// http.Header canonicalises keys itself (and would allocate doing
		// it for the lowercase form); other carriers, like gRPC metadata,
		// may only hold the lowercase key.
		if _, isHTTP := carrier.(propagation.HeaderCarrier); isHTTP {
			return ctx
		}
		if v = carrier.Get(headerNameLower); v == "" {
			return ctx
		}
	}
	var h Header
	if !parseHeader(v, &h) {
		reportBadHeader(v)
		return ctx
	}
	in := &incoming{Context: ctx, hdr: h}
	in.span.in = in
	if h.ParentID.IsValid() {
		return trace.ContextWithSpan(in, &in.span)
	}
	if trace.SpanContextFromContext(ctx).IsValid() {
		// Root-only next to a full traceparent: keep the W3C parent, still
		// expose the header for the response.
		return in
	}
	return trace.ContextWithSpan(in, &in.span)
}

// Inject writes X-Amzn-Trace-Id for the span in ctx (nothing without a
// valid span context): Root, Parent = the current span id, Sampled = its
// sampled flag, then the extra fields of the incoming header when it
// belongs to the same trace. The value never exceeds [MaxHeaderLen].
func (XRayPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if ctx == nil || carrier == nil {
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	d := DecisionNotSampled
	if sc.IsSampled() {
		d = DecisionSampled
	}
	var x *Header
	if in := incomingFrom(ctx); in != nil && in.hdr.TraceID == sc.TraceID() {
		x = &in.hdr
	}
	var buf [MaxHeaderLen]byte
	carrier.Set(HeaderName, string(appendHeader(buf[:0], sc.TraceID(), sc.SpanID(), d, x)))
}

// Fields returns the header name this propagator writes.
func (XRayPropagator) Fields() []string { return []string{HeaderName} }
