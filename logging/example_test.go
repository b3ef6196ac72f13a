package logging_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/logging"
)

// exampleCtx stands in for a request context the middleware prepared: a span.
func exampleCtx() context.Context {
	tid, _ := trace.TraceIDFromHex("5f84c7a12b3c4d5e6f708192a3b4c5d6")
	sid, _ := trace.SpanIDFromHex("0123456789abcdef")
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled,
	}))
}

// fixedClock makes the output deterministic.
func fixedClock() time.Time { return time.Date(2026, 11, 25, 17, 40, 5, 123e6, time.UTC) }

func ExampleNewHandler() {
	h := logging.NewHandler(os.Stdout, &logging.Options{
		Service: "orders", Version: "1.2.3", Environment: "prod", Clock: fixedClock,
	})
	log := slog.New(h)
	ctx := exampleCtx()
	log.InfoContext(ctx, "order created", "order_id", 42, "password", "hunter2")
	log.WithGroup("db").InfoContext(ctx, "query", "rows", 3)
	// Output:
	// {"time":"2026-11-25T17:40:05.123Z","level":"INFO","msg":"order created","xray_trace_id":"1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6","trace_id":"5f84c7a12b3c4d5e6f708192a3b4c5d6","span_id":"0123456789abcdef","trace_sampled":true,"service":"orders","version":"1.2.3","environment":"prod","order_id":42,"password":"[REDACTED]"}
	// {"time":"2026-11-25T17:40:05.123Z","level":"INFO","msg":"query","xray_trace_id":"1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6","trace_id":"5f84c7a12b3c4d5e6f708192a3b4c5d6","span_id":"0123456789abcdef","trace_sampled":true,"service":"orders","version":"1.2.3","environment":"prod","db":{"rows":3}}
}

// Wrap keeps a team's own format and adds the correlation fields.
func ExampleWrap() {
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // drop time for a stable example
			}
			return a
		},
	})
	log := slog.New(logging.Wrap(text, &logging.Options{Service: "orders"}))
	log.InfoContext(exampleCtx(), "shipped", "carrier", "ups")
	// Output:
	// level=INFO msg=shipped service=orders xray_trace_id=1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6 trace_id=5f84c7a12b3c4d5e6f708192a3b4c5d6 span_id=0123456789abcdef trace_sampled=true carrier=ups
}

// Request-scoped attributes are added once and show on every later line;
// FromContext's logger carries the context even when called without one.
func ExampleFromContext() {
	logging.SetDefaultHandler(logging.NewHandler(os.Stdout, &logging.Options{Clock: fixedClock}))
	defer logging.SetDefaultHandler(nil)

	ctx := logging.WithAttrs(exampleCtx(), slog.String("tenant", "acme"))
	log := logging.FromContext(ctx)
	log.Info("step one")
	log.Warn("step two", "retry", true)
	// Output:
	// {"time":"2026-11-25T17:40:05.123Z","level":"INFO","msg":"step one","xray_trace_id":"1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6","trace_id":"5f84c7a12b3c4d5e6f708192a3b4c5d6","span_id":"0123456789abcdef","trace_sampled":true,"tenant":"acme"}
	// {"time":"2026-11-25T17:40:05.123Z","level":"WARN","msg":"step two","xray_trace_id":"1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6","trace_id":"5f84c7a12b3c4d5e6f708192a3b4c5d6","span_id":"0123456789abcdef","trace_sampled":true,"tenant":"acme","retry":true}
}

func ExampleHandler_Access() {
	h := logging.NewHandler(os.Stdout, &logging.Options{Service: "orders", Clock: fixedClock})
	h.Access(exampleCtx(), &logging.AccessEntry{
		Level: slog.LevelInfo, Protocol: "http", Method: "GET", Route: "/orders/{id}", Path: "/orders/42",
		Status: 200, Duration: 1500 * time.Microsecond, BytesOut: 512, RequestID: "req-1",
	})
	// Output:
	// {"time":"2026-11-25T17:40:05.123Z","level":"INFO","msg":"access","xray_trace_id":"1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6","trace_id":"5f84c7a12b3c4d5e6f708192a3b4c5d6","span_id":"0123456789abcdef","trace_sampled":true,"request_id":"req-1","service":"orders","protocol":"http","method":"GET","route":"/orders/{id}","path":"/orders/42","status":200,"duration_ms":1.5,"bytes_out":512}
}
