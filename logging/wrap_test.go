package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/reqstate"
)

func TestWrapJSON(t *testing.T) {
	var buf bytes.Buffer
	h := Wrap(slog.NewJSONHandler(&buf, nil), &Options{Service: "svc", Version: "v1", Environment: "dev"})
	ctx := WithAttrs(spanCtx(t), slog.String("tenant", "t1"))
	l := slog.New(h)
	l.InfoContext(ctx, "plain", "a", 1)
	l.With("w", 2).WithGroup("g").With("x", 3).WithGroup("h").InfoContext(ctx, "grouped", "y", 4)
	l.WithGroup("g").InfoContext(ctx, "empty group")
	l.InfoContext(context.Background(), "no span")

	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 4)
	for _, m := range ms[:3] {
		assert.Equal(t, wantXRay, m["xray_trace_id"], m["msg"])
		assert.Equal(t, wantW3C, m["trace_id"])
		assert.Equal(t, wantSpan, m["span_id"])
		assert.Equal(t, true, m["trace_sampled"])
		assert.Equal(t, wantReqID, m["request_id"])
		assert.Equal(t, "t1", m["tenant"])
	}
	for _, m := range ms {
		assert.Equal(t, "svc", m["service"])
		assert.Equal(t, "v1", m["version"])
		assert.Equal(t, "dev", m["environment"])
	}
	assert.Equal(t, 1.0, ms[0]["a"])
	assert.Equal(t, 2.0, ms[1]["w"])
	assert.Equal(t, map[string]any{"x": 3.0, "h": map[string]any{"y": 4.0}}, ms[1]["g"])
	assert.NotContains(t, ms[2], "g")
	assert.NotContains(t, ms[3], "xray_trace_id")
}

func TestWrapText(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(Wrap(slog.NewTextHandler(&buf, nil), nil))
	l.WithGroup("g").InfoContext(spanCtx(t), "m", "a", 1)
	out := buf.String()
	assert.Contains(t, out, " xray_trace_id="+wantXRay+" ")
	assert.Contains(t, out, " request_id="+wantReqID+" ")
	assert.Contains(t, out, " g.a=1")
	assert.NotContains(t, out, "g.xray_trace_id")
}

func TestWrapEnabledDebugSampling(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(Wrap(slog.NewJSONHandler(&buf, nil), &Options{DebugSampleRate: 1}))
	sampled := reqstate.With(context.Background(), &reqstate.State{DebugLogs: true})
	l.DebugContext(sampled, "kept")
	l.DebugContext(context.Background(), "dropped")
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"))
	assert.Contains(t, buf.String(), "kept")
	sd, ok := Wrap(slog.NewJSONHandler(&buf, nil), &Options{DebugSampleRate: 1}).(interface{ SampleDebug() bool })
	require.True(t, ok)
	assert.True(t, sd.SampleDebug())
}

func TestWrapIdempotentAndNil(t *testing.T) {
	h := NewHandler(nil, nil)
	assert.Same(t, h, Wrap(h, nil).(*Handler))
	w := Wrap(slog.NewJSONHandler(&bytes.Buffer{}, nil), nil)
	assert.Equal(t, w, Wrap(w, nil))
	require.NotPanics(t, func() { slog.New(Wrap(nil, nil)).InfoContext(spanCtx(t), "m") })
}

// The wrapper keeps the wrapped handler conformant.
func TestWrapSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf.Reset()
		return Wrap(slog.NewJSONHandler(&buf, nil), nil)
	}, func(t *testing.T) map[string]any {
		ms := parseLines(t, buf.Bytes())
		require.Len(t, ms, 1)
		return ms[0]
	})
}
