package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkLine asserts the one-line, valid-JSON, size rules and returns the object.
func checkLine(t testing.TB, out []byte) map[string]any {
	t.Helper()
	require.NotEmpty(t, out)
	require.Equal(t, byte('\n'), out[len(out)-1], "ends in newline")
	require.Equal(t, 1, bytes.Count(out, []byte("\n")), "exactly one line")
	require.Less(t, len(out), MaxLineBytes, "line under 16 KiB")
	require.True(t, utf8.Valid(out), "valid UTF-8")
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m), "%.300s", out)
	return m
}

func TestTruncation(t *testing.T) {
	big := strings.Repeat("x", 20000)
	ctl := strings.Repeat("\x01", 5000) // escapes to 6 bytes each: 30 KB
	for _, tc := range []struct {
		name  string
		log   func(l *slog.Logger, ctx context.Context)
		check func(t *testing.T, m map[string]any)
	}{
		{"long value", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "v", big, "after", 1) },
			func(t *testing.T, m map[string]any) {
				v := m["v"].(string)
				assert.True(t, strings.HasSuffix(v, TruncatedMarker))
				assert.LessOrEqual(t, len(v), MaxValueBytes)
				assert.Equal(t, 1.0, m["after"])
				assert.NotContains(t, m, "truncated")
			}},
		{"long message", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, big) },
			func(t *testing.T, m map[string]any) {
				assert.True(t, strings.HasSuffix(m["msg"].(string), TruncatedMarker))
			}},
		{"escape-heavy value", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "v", ctl) },
			func(t *testing.T, m map[string]any) {
				assert.True(t, strings.HasSuffix(m["v"].(string), TruncatedMarker))
			}},
		{"many attrs dropped from the end", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "a", big, "b", big, "c", big, "d", 1)
		}, func(t *testing.T, m map[string]any) {
			assert.Contains(t, m, "a")
			assert.NotContains(t, m, "d", "attrs after the one that overflowed are dropped")
			assert.Equal(t, true, m["truncated"])
			assert.Equal(t, wantXRay, m["xray_trace_id"], "correlation survives")
		}},
		{"inside groups", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").With("w", big).WithGroup("h").InfoContext(ctx, "m", "a", big, "b", big)
		}, func(t *testing.T, m map[string]any) {
			assert.Equal(t, true, m["truncated"])
			assert.Contains(t, m, "g")
		}},
		{"huge WithAttrs", func(l *slog.Logger, ctx context.Context) {
			args := make([]any, 0, 40)
			for range 20 {
				args = append(args, "k", big)
			}
			l.With(args...).InfoContext(ctx, "m", "x", 1)
		}, func(t *testing.T, m map[string]any) {
			assert.Equal(t, true, m["truncated"])
			assert.Equal(t, 1.0, m["x"])
		}},
		{"huge context attrs", func(l *slog.Logger, ctx context.Context) {
			var as []slog.Attr
			for range 10 {
				as = append(as, slog.String("c", big))
			}
			l.InfoContext(WithAttrs(ctx, as...), "m", "x", 1)
		}, func(t *testing.T, m map[string]any) {
			assert.Equal(t, true, m["truncated"])
		}},
		{"huge keys and group names", func(l *slog.Logger, ctx context.Context) {
			g := l
			for range 100 {
				g = g.WithGroup(big)
			}
			g.InfoContext(ctx, "m", big, big)
		}, func(t *testing.T, m map[string]any) {
			assert.Equal(t, wantXRay, m["xray_trace_id"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(slog.New(NewHandler(&buf, nil)), spanCtx(t))
			tc.check(t, checkLine(t, buf.Bytes()))
		})
	}
}

func TestAppendStr(t *testing.T) {
	for _, tc := range []struct {
		s     string
		limit int
	}{
		{"short", 100}, {strings.Repeat("é", 100), 50}, {strings.Repeat("\n", 100), 41}, {"\xff\xfe\xfd", 10},
		{strings.Repeat("a", 100), 20}, {strings.Repeat("日本", 50), 30},
	} {
		out := appendStr(nil, tc.s, tc.limit)
		var got string
		require.NoError(t, json.Unmarshal(out, &got), "%q", out)
		if len(tc.s)*6+2 > tc.limit {
			assert.LessOrEqual(t, len(out), max(tc.limit, len(TruncatedMarker)+2), "%q", out)
		}
		if len(out) < len(jsonString(tc.s)) {
			assert.True(t, strings.HasSuffix(got, TruncatedMarker))
		} else {
			assert.Equal(t, strings.ToValidUTF8(tc.s, "\ufffd"), got)
		}
	}
}

func jsonString(s string) []byte { b, _ := json.Marshal(s); return b }

// FuzzHandle: whatever the message, keys and values, a line is one valid JSON
// object under the size limit.
func FuzzHandle(f *testing.F) {
	f.Add("msg", "key", "value", "group")
	f.Add("\x00\xff\u2028", "\"", "\\", "")
	f.Add(strings.Repeat("\x1f", 3000), strings.Repeat("k", 300), strings.Repeat("v\xff", 9000), "g")
	f.Fuzz(func(t *testing.T, msg, key, val, group string) {
		var buf bytes.Buffer
		l := slog.New(NewHandler(&buf, &Options{Service: val}))
		if group != "" {
			l = l.WithGroup(group).With(key, val)
		}
		l.InfoContext(WithAttrs(spanCtx(t), slog.String(key, val)), msg, key, val, slog.Group(group, key, val, "n", 1))
		checkLine(t, buf.Bytes())
	})
}
