// Package reqstate holds the SDK's per-request state: one pointer stored under
// one context key by the HTTP and gRPC middleware, read by logging and metrics.
//
// Never pool a State: a context.Context can reach it for as long as user code
// keeps the context.
package reqstate

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
)

// State is created once per request by the middleware.
//
// RequestID and DebugLogs are written before the handler runs and only read
// afterwards, so readers need no lock. Operation is set by the middleware after
// the handler returns (the route is known only then) and must not be read by
// user goroutines that outlive the request.
type State struct {
	// RequestID is the validated incoming X-Request-Id or a generated one.
	RequestID string
	// Operation is the span name, e.g. "GET /orders/{id}".
	Operation string
	// DebugLogs is the per-request debug-log sampling decision: when true the
	// logging handler lets Debug records of this request through.
	DebugLogs bool
	// Sampling holds the sampler-only inputs of the server span (method,
	// path, host, …: what X-Ray sampling rules match on) while the
	// middleware starts it with this state in the parent context; nil
	// otherwise. The middleware starts the span without start attributes
	// (the OpenTelemetry SDK would copy them twice and mark the span's
	// attributes for de-duplication) and sets them, with the rest, in one
	// call at the end. See [SamplingAttributes].
	Sampling []attribute.KeyValue
}

// SamplingAttributes returns the sampler-only inputs carried by ctx's
// request state (see State.Sampling), or nil. A sampler consults it when a
// span starts without attributes.
func SamplingAttributes(ctx context.Context) []attribute.KeyValue {
	if s := From(ctx); s != nil {
		return s.Sampling
	}
	return nil
}

type key struct{}

// Key is the context key under which the *State is found. A context type
// that already exists per request can answer it from its Value method
// instead of adding a context.WithValue layer (and its allocation); see
// [Context].
var Key any = key{}

// Context carries a State for a context type embedded in a per-request
// struct: &Context{Context: parent, State: s} is what With(parent, s)
// returns, without allocating when the struct is already allocated.
type Context struct {
	context.Context
	State *State
}

// Value implements context.Context.
func (c *Context) Value(k any) any {
	if _, ok := k.(key); ok {
		return c.State
	}
	return c.Context.Value(k)
}

// With returns a context carrying s.
func With(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the request state in ctx, or nil.
func From(ctx context.Context) *State {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(key{}).(*State)
	return s
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if s := From(ctx); s != nil {
		return s.RequestID
	}
	return ""
}
