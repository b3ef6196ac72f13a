package logging

// SKELETON written by the lead so other packages compile; the logging work
// (issue 4) replaces the bodies and keeps these exported signatures.

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Options configures a Handler. A nil *Options means defaults.
type Options struct {
	Level           slog.Leveler
	Service         string
	Version         string
	Environment     string
	RedactKeys      []string
	DebugSampleRate float64
	AddSource       bool
}

// Handler is the SDK's slog.Handler.
type Handler struct {
	slog.Handler
}

// NewHandler returns a JSON handler writing one line per record to w.
func NewHandler(w io.Writer, opts *Options) *Handler {
	return &Handler{Handler: slog.NewJSONHandler(w, nil)}
}

// SampleDebug decides, once per request, whether its Debug records are kept.
func (h *Handler) SampleDebug() bool { return false }

// AccessEntry is one access-log line (HTTP request or gRPC call).
type AccessEntry struct {
	Level     slog.Level
	Protocol  string // "http" or "grpc"
	Method    string // HTTP method, or the gRPC full method
	Route     string // route template / operation
	Path      string // raw path (HTTP only, query removed)
	Status    int    // HTTP status or gRPC code
	Duration  time.Duration
	BytesIn   int64
	BytesOut  int64
	RequestID string
}

// Access writes one access-log line for ctx's request. Safe on a nil Handler.
func (h *Handler) Access(ctx context.Context, e *AccessEntry) {}

// FromContext returns the logger for ctx's request (never nil).
func FromContext(ctx context.Context) *slog.Logger { return slog.Default() }
