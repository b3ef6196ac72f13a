//go:build !race

package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Allocation budgets. The race detector allocates, hence the build tag.
func TestAllocs(t *testing.T) {
	ctx := WithAttrs(spanCtx(t), slog.String("tenant", "t1"))
	h := NewHandler(io.Discard, &Options{Service: "svc", Version: "v1", Environment: "prod"})
	l := slog.New(h)
	grouped := l.With("component", "db").WithGroup("q")
	e := &AccessEntry{Protocol: "http", Method: "GET", Route: "/orders/{id}", Path: "/orders/1", Status: 200,
		Duration: time.Millisecond, BytesOut: 123, UserAgent: "curl"}
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"Access", func() { h.Access(ctx, e) }},
		{"Info with span, 5 attrs", func() {
			l.LogAttrs(ctx, slog.LevelInfo, "m", slog.String("a", "x"), slog.Int("b", 1), slog.Bool("c", true),
				slog.Duration("d", time.Second), slog.Float64("e", 1.5))
		}},
		{"grouped logger with redacted key", func() {
			grouped.LogAttrs(ctx, slog.LevelInfo, "m", slog.String("password", "x"), slog.Int("rows", 3))
		}},
		{"disabled debug", func() { l.LogAttrs(ctx, slog.LevelDebug, "m", slog.Int("a", 1)) }},
		{"SampleDebug", func() { h.SampleDebug() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Zero(t, testing.AllocsPerRun(200, tc.fn))
		})
	}
}

// Request-scoped helpers allocate only when called, and only a little.
func TestAllocsContextHelpers(t *testing.T) {
	ctx := spanCtx(t)
	SetDefaultHandler(NewHandler(io.Discard, nil))
	t.Cleanup(func() { SetDefaultHandler(nil) })
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = FromContext(ctx) }), 2.0)
	l := FromContext(ctx)
	assert.Zero(t, testing.AllocsPerRun(100, func() { l.Info("m", "a", 1) }), "bound logger adds nothing per line")
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = WithAttrs(ctx, slog.Int("a", 1)) }), 3.0)
	_ = context.Background()
}
