package metrics

// SKELETON written by the lead so other packages compile; the metrics work
// (issue 3) replaces the bodies and keeps these exported signatures.

import (
	"context"
	"io"
	"time"
)

// Flags are the X-Ray style outcome flags of one request.
type Flags uint8

const (
	// FlagError marks a client error (4xx, client-caused gRPC codes).
	FlagError Flags = 1 << iota
	// FlagThrottle marks throttling (429, ResourceExhausted).
	FlagThrottle
	// FlagFault marks a server error (5xx, server-side gRPC codes, panics).
	FlagFault
)

// Options configures a Recorder.
type Options struct {
	Namespace     string
	ServiceName   string
	ServiceType   string
	Environment   string
	Version       string
	FlushInterval time.Duration
	// Writer receives EMF lines (one Write per line). The SDK passes the
	// shared line writer so logs and metrics never interleave.
	Writer        io.Writer
	AgentEndpoint string
}

// Recorder aggregates request metrics and flushes EMF documents.
type Recorder struct{ opts Options }

// New returns a Recorder.
func New(opts Options) *Recorder { return &Recorder{opts: opts} }

// Operation returns the handle for one operation name (a span name such as
// "GET /orders/{id}"). Handles are cached; a nil Recorder returns nil.
func (r *Recorder) Operation(name string) *Operation {
	if r == nil {
		return nil
	}
	return &Operation{name: name}
}

// Operation is a resolved (service, operation) series set.
type Operation struct{ name string }

// Observe records one request: Latency, Error and Fault. Safe on a nil handle.
func (o *Operation) Observe(ctx context.Context, latency time.Duration, flags Flags) {}

// Flush writes every pending aggregate.
func (r *Recorder) Flush(ctx context.Context) error { return nil }

// Shutdown flushes and stops background work.
func (r *Recorder) Shutdown(ctx context.Context) error { return nil }
