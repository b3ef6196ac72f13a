package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/reqstate"
)

// Fixed ids used across the tests.
var (
	testTraceID = trace.TraceID{0x5f, 0x84, 0xc7, 0xa1, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6}
	testSpanID  = trace.SpanID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
)

const (
	wantXRay  = "1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6"
	wantW3C   = "5f84c7a12b3c4d5e6f708192a3b4c5d6"
	wantSpan  = "0123456789abcdef"
	wantReqID = "req-42"
)

// spanCtx returns a context with a sampled remote span and a request id.
func spanCtx(t testing.TB) context.Context {
	t.Helper()
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	return reqstate.With(ctx, &reqstate.State{RequestID: wantReqID})
}

// parseLines parses every line of out as one JSON object.
func parseLines(t testing.TB, out []byte) []map[string]any {
	t.Helper()
	var ms []map[string]any
	for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "line: %s", line)
		ms = append(ms, m)
	}
	return ms
}

func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(t *testing.T) slog.Handler {
		buf.Reset()
		return NewHandler(&buf, &Options{Level: slog.LevelDebug})
	}
	result := func(t *testing.T) map[string]any {
		ms := parseLines(t, buf.Bytes())
		require.Len(t, ms, 1)
		return ms[0]
	}
	slogtest.Run(t, newHandler, result)
}

func TestSlogtestWithSpan(t *testing.T) {
	// The same conformance suite while correlation and static fields are
	// added: they must not disturb groups.
	var buf bytes.Buffer
	h := NewHandler(&buf, &Options{Service: "svc"})
	ctx := spanCtx(t)
	l := slog.New(h)
	l.WithGroup("G").With("a", 1).WithGroup("H").InfoContext(ctx, "m", "b", 2)
	m := parseLines(t, buf.Bytes())[0]
	assert.Equal(t, wantXRay, m["xray_trace_id"])
	assert.Equal(t, "svc", m["service"])
	assert.Equal(t, map[string]any{"a": 1.0, "H": map[string]any{"b": 2.0}}, m["G"])
}

func TestFields(t *testing.T) {
	at := time.Date(2026, 11, 25, 17, 40, 5, 123456789, time.FixedZone("X", 3600))
	var buf bytes.Buffer
	h := NewHandler(&buf, &Options{Service: "orders", Version: "1.2.3", Environment: "prod", AddSource: true})
	l := slog.New(h)
	ctx := spanCtx(t)
	r := slog.NewRecord(at, slog.LevelWarn, "hello", 0)
	r.AddAttrs(slog.Int("n", 7))
	require.NoError(t, l.Handler().Handle(ctx, r))
	l.InfoContext(ctx, "with source")

	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 2)
	m := ms[0]
	for k, want := range map[string]any{
		"time":          "2026-11-25T16:40:05.123Z", // UTC, milliseconds
		"level":         "WARN",
		"msg":           "hello",
		"xray_trace_id": wantXRay,
		"trace_id":      wantW3C,
		"span_id":       wantSpan,
		"trace_sampled": true,
		"request_id":    wantReqID,
		"service":       "orders",
		"version":       "1.2.3",
		"environment":   "prod",
		"n":             7.0,
	} {
		assert.Equal(t, want, m[k], k)
	}
	assert.NotContains(t, m, "source", "PC 0: no source")
	// Field order: time, level, msg first, then correlation, then static.
	line := strings.SplitN(buf.String(), "\n", 2)[0]
	assert.True(t, strings.HasPrefix(line, `{"time":"2026-11-25T16:40:05.123Z","level":"WARN","msg":"hello","xray_trace_id":"`+wantXRay+`","trace_id":"`+wantW3C+`","span_id":"`+wantSpan+`","trace_sampled":true,"request_id":"req-42","service":"orders"`), line)

	src, ok := ms[1]["source"].(map[string]any)
	require.True(t, ok, "source: %v", ms[1])
	assert.Contains(t, src["file"], "handler_test.go")
	assert.Contains(t, src["function"], "TestFields")
	assert.Greater(t, src["line"], 0.0)
}

func TestNoSpan(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"background", context.Background()},
		{"nil", nil},
		{"request state only", reqstate.With(context.Background(), &reqstate.State{RequestID: "r1"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := NewHandler(&buf, nil)
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
			//nolint:staticcheck // nil ctx on purpose: must not panic
			require.NotPanics(t, func() { _ = h.Handle(tc.ctx, r) })
			m := parseLines(t, buf.Bytes())[0]
			for _, k := range []string{"xray_trace_id", "trace_id", "span_id", "trace_sampled", "service"} {
				assert.NotContains(t, m, k)
			}
			if tc.name == "request state only" {
				assert.Equal(t, "r1", m["request_id"])
			} else {
				assert.NotContains(t, m, "request_id")
			}
		})
	}
}

func TestUnsampledSpan(t *testing.T) {
	var buf bytes.Buffer
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	slog.New(NewHandler(&buf, nil)).InfoContext(ctx, "m")
	m := parseLines(t, buf.Bytes())[0]
	assert.Equal(t, false, m["trace_sampled"])
	assert.Equal(t, wantXRay, m["xray_trace_id"])
}

func TestCorrelationTopLevelInsideGroups(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithAttrs(spanCtx(t), slog.String("tenant", "t1"))
	l := slog.New(NewHandler(&buf, nil)).WithGroup("a").With("x", 1).WithGroup("b")
	l.InfoContext(ctx, "m", "y", 2)
	l.InfoContext(ctx, "empty") // lazy group b dropped, a kept (has x)
	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 2)
	for _, m := range ms {
		assert.Equal(t, wantXRay, m["xray_trace_id"])
		assert.Equal(t, wantReqID, m["request_id"])
		assert.Equal(t, "t1", m["tenant"])
	}
	assert.Equal(t, map[string]any{"x": 1.0, "b": map[string]any{"y": 2.0}}, ms[0]["a"])
	assert.Equal(t, map[string]any{"x": 1.0}, ms[1]["a"])
}

func TestValueKinds(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(&buf, nil))
	type point struct{ X, Y int }
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	l.Info("kinds",
		"s", "a\"b\n\x01\xff\u2028", "i", -3, "u", uint64(1<<63), "f", 1.5, "nan", 0.0/zero(),
		"b", true, "d", 1500*time.Millisecond, "t", at, "err", errString("boom"),
		"p", point{1, 2}, "bytes", []byte("raw"), "nilv", nil, "ch", make(chan int),
		"panicky", panicky{})
	line := buf.String()
	assert.NotContains(t, line[:len(line)-1], "\n", "one line")
	m := parseLines(t, buf.Bytes())[0]
	assert.Equal(t, "a\"b\n\x01\ufffd\u2028", m["s"])
	assert.Equal(t, -3.0, m["i"])
	assert.Contains(t, line, `"u":9223372036854775808`)
	assert.Equal(t, 1.5, m["f"])
	assert.Nil(t, m["nan"])
	assert.Equal(t, true, m["b"])
	assert.Equal(t, 1.5e9, m["d"])
	assert.Equal(t, "2026-01-02T03:04:05.000000006Z", m["t"])
	assert.Equal(t, "boom", m["err"])
	assert.Equal(t, map[string]any{"X": 1.0, "Y": 2.0}, m["p"])
	assert.Equal(t, "raw", m["bytes"])
	assert.Contains(t, m["ch"], "!ERROR")
	assert.Contains(t, m["panicky"], "!PANIC")
}

func zero() float64 { return 0 }

var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type errString string

func (e errString) Error() string { return string(e) }

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("bad marshaler") }

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, &Options{Level: slog.LevelWarn})
	ctx := context.Background()
	sampled := reqstate.With(ctx, &reqstate.State{DebugLogs: true})
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		level slog.Level
		want  bool
	}{
		{"info below warn", ctx, slog.LevelInfo, false},
		{"warn", ctx, slog.LevelWarn, true},
		{"debug unsampled", ctx, slog.LevelDebug, false},
		{"debug sampled", sampled, slog.LevelDebug, true},
		{"info sampled", sampled, slog.LevelInfo, true},
		{"below debug sampled", sampled, slog.LevelDebug - 1, false},
		{"nil ctx", nil, slog.LevelDebug, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, h.Enabled(tc.ctx, tc.level))
		})
	}
	l := slog.New(h)
	l.DebugContext(sampled, "kept")
	l.DebugContext(ctx, "dropped")
	l.Log(ctx, slog.LevelWarn+2, "custom")
	ms := parseLines(t, buf.Bytes())
	require.Len(t, ms, 2)
	assert.Equal(t, "kept", ms[0]["msg"])
	assert.Equal(t, "DEBUG", ms[0]["level"])
	assert.Equal(t, "WARN+2", ms[1]["level"])
}

func TestSampleDebug(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		min, max int // out of 10000
	}{
		{0, 0, 0}, {-1, 0, 0}, {1, 10000, 10000}, {2, 10000, 10000}, {0.1, 800, 1200}, {0.5, 4700, 5300},
	} {
		h := NewHandler(nil, &Options{DebugSampleRate: tc.rate})
		n := 0
		for range 10000 {
			if h.SampleDebug() {
				n++
			}
		}
		assert.GreaterOrEqual(t, n, tc.min, "rate %v", tc.rate)
		assert.LessOrEqual(t, n, tc.max, "rate %v", tc.rate)
	}
	var nilH *Handler
	assert.False(t, nilH.SampleDebug())
}

func TestNilHandler(t *testing.T) {
	var h *Handler
	require.NotPanics(t, func() {
		assert.False(t, h.Enabled(context.Background(), slog.LevelError))
		assert.NoError(t, h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)))
		_ = h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g")
		h.Access(context.Background(), &AccessEntry{})
		(&Handler{}).Access(context.Background(), &AccessEntry{})
		NewHandler(nil, nil).Access(context.Background(), nil)
	})
}

func TestClock(t *testing.T) {
	var buf bytes.Buffer
	fixed := time.Date(2030, 5, 6, 7, 8, 9, 999_999_999, time.UTC)
	l := slog.New(NewHandler(&buf, &Options{Clock: func() time.Time { return fixed }}))
	l.Info("m")
	assert.Equal(t, "2030-05-06T07:08:09.999Z", parseLines(t, buf.Bytes())[0]["time"])
}
