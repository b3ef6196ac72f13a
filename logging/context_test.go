package logging

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/reqstate"
)

func TestWithAttrsCopyOnWrite(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(&buf, nil))
	ctx := context.Background()
	assert.Equal(t, ctx, WithAttrs(ctx), "no attrs: same ctx")
	a := WithAttrs(ctx, slog.String("tenant", "t1"))
	b := WithAttrs(a, slog.String("user", "u1"))
	c := WithAttrs(a, slog.String("user", "u2"))
	l.InfoContext(a, "a")
	l.InfoContext(b, "b")
	l.InfoContext(c, "c")
	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 3)
	assert.NotContains(t, ms[0], "user", "parent unchanged by children")
	assert.Equal(t, "u1", ms[1]["user"])
	assert.Equal(t, "u2", ms[2]["user"], "siblings do not share a backing array")
	for _, m := range ms {
		assert.Equal(t, "t1", m["tenant"])
	}
	assert.Len(t, Attrs(b), 2)
	assert.Nil(t, Attrs(context.Background()))
	//lint:ignore SA1012 nil ctx on purpose
	assert.Len(t, Attrs(WithAttrs(nil, slog.Int("x", 1))), 1)

	many := make([]slog.Attr, 100)
	for i := range many {
		many[i] = slog.Int("k", i)
	}
	assert.Len(t, Attrs(WithAttrs(a, many...)), maxCtxAttrs, "bounded")
}

func TestFromContext(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, &Options{Service: "svc"})
	SetDefaultHandler(h)
	t.Cleanup(func() { SetDefaultHandler(nil) })

	ctx := WithAttrs(spanCtx(t), slog.String("tenant", "t1"))
	l := FromContext(ctx)
	require.NotNil(t, l)
	l.Info("no ctx at call site") // bound ctx supplies the ids
	l.With("k", "v").WithGroup("g").Info("grouped", "x", 1)
	other := reqstate.With(context.Background(), &reqstate.State{RequestID: "other"})
	l.InfoContext(other, "explicit ctx wins")

	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 3)
	for _, m := range ms[:2] {
		assert.Equal(t, wantXRay, m["xray_trace_id"])
		assert.Equal(t, wantReqID, m["request_id"])
		assert.Equal(t, "t1", m["tenant"])
		assert.Equal(t, "svc", m["service"])
	}
	assert.Equal(t, "v", ms[1]["k"])
	assert.Equal(t, map[string]any{"x": 1.0}, ms[1]["g"])
	assert.Equal(t, "other", ms[2]["request_id"])
	assert.NotContains(t, ms[2], "xray_trace_id")

	// Debug sampling follows the bound request.
	buf.Reset()
	dctx := reqstate.With(context.Background(), &reqstate.State{DebugLogs: true})
	FromContext(dctx).Debug("sampled debug")
	FromContext(context.Background()).Debug("dropped")
	ms = parseLines(t, buf.Bytes())
	require.Len(t, ms, 1)
	assert.Equal(t, "sampled debug", ms[0]["msg"])
}

func TestFromContextLoggerInContext(t *testing.T) {
	var sdk, mine bytes.Buffer
	SetDefaultHandler(NewHandler(&sdk, nil))
	t.Cleanup(func() { SetDefaultHandler(nil) })

	enriched := slog.New(NewHandler(&mine, nil)).With("route", "/orders/{id}")
	ctx := NewContext(WithAttrs(spanCtx(t), slog.String("tenant", "t1")), enriched)
	FromContext(ctx).Info("m")
	// A logger from FromContext stored again is not double-bound.
	ctx2 := NewContext(ctx, FromContext(ctx))
	FromContext(ctx2).Info("m2")

	assert.Empty(t, sdk.String())
	ms := parseLines(t, mine.Bytes())
	require.Len(t, ms, 2)
	for _, m := range ms {
		assert.Equal(t, "/orders/{id}", m["route"])
		assert.Equal(t, "t1", m["tenant"], "attrs survive NewContext")
		assert.Equal(t, wantXRay, m["xray_trace_id"])
	}
}

func TestFromContextFallback(t *testing.T) {
	SetDefaultHandler(nil)
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	FromContext(spanCtx(t)).Info("m")
	//lint:ignore SA1012 nil ctx on purpose
	FromContext(nil).Info("nil ctx")
	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 2)
	assert.Equal(t, wantXRay, ms[0]["xray_trace_id"], "slog.Default wrapped with the correlation fields")
	assert.NotContains(t, ms[1], "xray_trace_id")

	// slog.Default already being the SDK handler: no double fields.
	buf.Reset()
	slog.SetDefault(slog.New(NewHandler(&buf, nil)))
	FromContext(spanCtx(t)).Info("m")
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte(`"xray_trace_id"`)))
}
