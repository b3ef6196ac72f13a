package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/reqstate"
)

func TestAccess(t *testing.T) {
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	full := &AccessEntry{
		Level: slog.LevelInfo, Protocol: "http", Method: "GET", Route: "/orders/{id}", Path: "/orders/42",
		Status: 404, Duration: 1234567 * time.Nanosecond, BytesIn: 10, BytesOut: 20,
		UserAgent: "curl/8", ClientIP: "10.0.0.1", Peer: "db",
	}
	for _, tc := range []struct {
		name  string
		opts  *Options
		ctx   context.Context
		entry *AccessEntry
		want  map[string]any // nil value: key must be absent
	}{
		{"full http", &Options{Service: "svc"}, spanCtx(t), full, map[string]any{
			"time": "2026-11-25T12:00:00.000Z", "level": "INFO", "msg": AccessMessage,
			"xray_trace_id": wantXRay, "trace_id": wantW3C, "span_id": wantSpan, "request_id": wantReqID,
			"service": "svc", "protocol": "http", "method": "GET", "route": "/orders/{id}", "path": "/orders/42",
			"status": 404.0, "duration_ms": 1.234, "bytes_in": 10.0, "bytes_out": 20.0,
			"user_agent": "curl/8", "client_ip": "10.0.0.1", "peer": "db", "grpc_code": nil,
		}},
		{"grpc minimal, no span", nil, context.Background(), &AccessEntry{
			Level: slog.LevelWarn, Protocol: "grpc", Method: "/pkg.Svc/Get", Route: "/pkg.Svc/Get", Status: 5, GRPCCode: "NotFound",
			RequestID: "r9",
		}, map[string]any{
			"level": "WARN", "status": 5.0, "grpc_code": "NotFound", "request_id": "r9", "duration_ms": 0.0,
			"path": nil, "bytes_in": nil, "xray_trace_id": nil, "user_agent": nil,
		}},
		{"entry request id equal to state: written once", nil, spanCtx(t), &AccessEntry{Status: 200, RequestID: wantReqID},
			map[string]any{"request_id": wantReqID}},
		{"context attrs", nil, WithAttrs(context.Background(), slog.String("tenant", "t1"), slog.String("token", "x")),
			&AccessEntry{Status: 200}, map[string]any{"tenant": "t1", "token": Redacted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := Options{}
			if tc.opts != nil {
				o = *tc.opts
			}
			o.Clock = func() time.Time { return fixed }
			NewHandler(&buf, &o).Access(tc.ctx, tc.entry)
			m := checkLine(t, buf.Bytes())
			for k, want := range tc.want {
				if want == nil {
					assert.NotContains(t, m, k)
					continue
				}
				assert.Equal(t, want, m[k], k)
			}
			assert.Equal(t, 1, strings.Count(buf.String(), `"request_id"`)+boolInt(!strings.Contains(buf.String(), `"request_id"`)))
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAccessLevel(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, &Options{Level: slog.LevelWarn})
	h.Access(context.Background(), &AccessEntry{Level: slog.LevelInfo, Status: 200})
	assert.Empty(t, buf.String(), "below level")
	h.Access(reqstate.With(context.Background(), &reqstate.State{DebugLogs: true}), &AccessEntry{Level: slog.LevelDebug, Status: 200})
	assert.NotEmpty(t, buf.String(), "debug-sampled request")
}

func TestAccessHugeFields(t *testing.T) {
	var buf bytes.Buffer
	big := strings.Repeat("\x01", 20000)
	var as []slog.Attr
	for range 10 {
		as = append(as, slog.String("c", big))
	}
	e := &AccessEntry{Protocol: big, Method: big, Route: big, Path: big, GRPCCode: big, UserAgent: big, ClientIP: big, Peer: big, RequestID: big}
	NewHandler(&buf, nil).Access(WithAttrs(spanCtx(t), as...), e)
	m := checkLine(t, buf.Bytes())
	require.Equal(t, true, m["truncated"])
	assert.Equal(t, wantXRay, m["xray_trace_id"])
}
