package o11y

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/o11y-go/o11y/internal/configerr"
)

func TestReportLineFormat(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{"config", configerr.New("AWS_XRAY_DAEMON_ADDRESS", "garbage", "not host:port", "127.0.0.1:2000"), map[string]any{
			"time": "2026-12-03T10:00:00Z", "level": "WARN", "logger": "o11y",
			"msg":      `o11y: config: AWS_XRAY_DAEMON_ADDRESS="garbage": not host:port; using 127.0.0.1:2000`,
			"variable": "AWS_XRAY_DAEMON_ADDRESS", "value": "garbage", "fallback": "127.0.0.1:2000",
		}},
		{"secret", &configerr.Error{Name: "OTEL_EXPORTER_OTLP_HEADERS", Value: "k=s3cret", Secret: true, Problem: "p", Fallback: "f"}, map[string]any{
			"time": "2026-12-03T10:00:00Z", "level": "WARN", "logger": "o11y",
			"msg":      `o11y: config: OTEL_EXPORTER_OTLP_HEADERS="[REDACTED]": p; using f`,
			"variable": "OTEL_EXPORTER_OTLP_HEADERS", "value": "[REDACTED]", "fallback": "f",
		}},
		{"component, package prefix not doubled", wrapReport("xray", errors.New("xrayudp: send: refused")), map[string]any{
			"time": "2026-12-03T10:00:00Z", "level": "WARN", "logger": "o11y",
			"msg": "o11y: xray: send: refused", "component": "xray",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := appendReportLine(nil, now, tt.err)
			require.True(t, strings.HasSuffix(string(line), "}\n"))
			require.Equal(t, 1, strings.Count(string(line), "\n"), "one line")
			var got map[string]any
			require.NoError(t, json.Unmarshal(line, &got), "%s", line)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, string(line), "s3cret")
		})
	}
}

// OpenTelemetry's own errors and internal log lines reach the ErrorHandler
// in the SDK's format, rate-limited, once Start has run without DisableGlobals.
func TestOTelErrorsRouted(t *testing.T) {
	restoreGlobals(t)
	seen := &errorsSeen{}
	cfg := baseConfig(nil, seen)
	cfg.Output = &syncBuffer{}
	cfg.DisableGlobals = false
	cfg.Traces.Exporter = "none"
	s, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	defer s.Shutdown(context.Background())

	for range 3 {
		otel.Handle(errors.New("exporter blew up"))
	}
	sink := logr.New(otelLogSink{})
	sink.Error(errors.New("boom"), "instrument conflict", "name", "latency")
	sink.V(1).Info("deprecated option")
	sink.V(4).Info("chatty info") // below warning: not reported

	var msgs []string
	for _, e := range seen.all() {
		msgs = append(msgs, e.Error())
	}
	assert.Equal(t, []string{
		"o11y: otel: exporter blew up", // once: rate-limited
		"o11y: otel: instrument conflict name=latency: boom",
		"o11y: otel: deprecated option",
	}, msgs)
	assert.Equal(t, uint64(5), s.Stats().Reports, "suppressed repeats are counted")
}

// The OTel SDK's own complaints about OTEL_TRACES_SAMPLER and
// OTEL_RESOURCE_ATTRIBUTES, as its v1.47 sources word them (plain and as
// resource.Detect wraps them), are recognised; other errors are not.
func TestIsSDKEnvError(t *testing.T) {
	for _, m := range []string{
		"unsupported sampler: xray",
		"parsing sampler argument: strconv.ParseFloat: parsing \"x\": invalid syntax",
		"invalid trace ID ratio: greater than 1.0",
		"partial resource: missing value: [bad]",
		"error detecting resource: partial resource: missing value: [bad]",
		"detecting resources: [partial resource: missing value: [bad] …]",
	} {
		assert.True(t, isSDKEnvError(errors.New(m)), m)
	}
	_, escErr := url.PathUnescape("%zz")
	assert.True(t, isSDKEnvError(escErr))
	assert.False(t, isSDKEnvError(errors.New("exporter blew up")))
}
