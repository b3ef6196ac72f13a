package o11y

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"

	"github.com/o11y-go/o11y/internal/otlpexport"
	"github.com/o11y-go/o11y/logging"
)

// envCase is one bad value for one README environment row.
type envCase struct {
	value string
	// extra variables the case needs (an OTLP exporter for OTEL_BSP_*).
	extra map[string]string
	// fallback is the ConfigError's Fallback: what the SDK uses instead.
	fallback string
	// shown is the ConfigError's Value when it is not the whole value.
	shown string
	// derived: the fallback depends on the value (the valid part of it),
	// so the README row cannot spell it out.
	derived bool
	// check asserts the fallback is in effect.
	check func(t *testing.T, s *SDK)
	// free: the variable takes any text; the case asserts that an unusual
	// value is accepted without a report.
	free bool
	// secret: the value is a credential, shown as [REDACTED].
	secret bool
}

// otlpExp is the SDK's OTLP exporter (OTLP export is on).
func otlpExp(t *testing.T, s *SDK) *otlpexport.Exporter {
	t.Helper()
	require.NotNil(t, s.otlp, "OTLP export is on")
	e, ok := s.otlp.SpanExporter.(*otlpexport.Exporter)
	require.True(t, ok, "%T", s.otlp.SpanExporter)
	return e
}

func noOTLP(t *testing.T, s *SDK) {
	assert.Nil(t, s.otlp, "no OTLP exporter")
	assert.Nil(t, s.otlpBatch)
	assert.Nil(t, s.xray, "not X-Ray instead either: OTLP was asked for")
}

func running(t *testing.T, s *SDK) {
	t.Helper()
	assert.NotNil(t, s.xray, "X-Ray export on (the default exporter)")
}

// envCases has a case for every variable of the README's environment table;
// TestEnvTable fails for a row without one.
var envCases = map[string][]envCase{
	"OTEL_SDK_DISABLED": {{value: "maybe", fallback: "false", check: func(t *testing.T, s *SDK) {
		assert.False(t, s.Config().Disable)
		running(t, s)
	}}},
	"OTEL_SERVICE_NAME": {{value: "orders-api.v2", free: true}},
	"OTEL_RESOURCE_ATTRIBUTES": {{value: "team=payments,broken,tier=%zz", shown: "broken,tier=…", fallback: "the other entries", derived: true, check: func(t *testing.T, s *SDK) {
		v, ok := s.resource.Set().Value(attribute.Key("team"))
		assert.True(t, ok && v.AsString() == "payments", "the good entry applies")
		_, ok = s.resource.Set().Value(attribute.Key("tier"))
		assert.False(t, ok, "a badly encoded value is skipped")
	}}},
	"OTEL_TRACES_EXPORTER": {{value: "zipkin", fallback: "xray", check: running}},
	"OTEL_EXPORTER_OTLP_ENDPOINT": {{value: "ftp://collector:4317", fallback: "http://localhost:4317", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, "http://localhost:4317", otlpExp(t, s).Endpoint(), "OTLP export stays on, at the default endpoint")
	}}},
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": {{value: "http://:4318", extra: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
		fallback: "http://localhost:4318/v1/traces", check: func(t *testing.T, s *SDK) {
			assert.Equal(t, "http://localhost:4318/v1/traces", otlpExp(t, s).Endpoint(), "OTLP export stays on, at the default endpoint")
		}}},
	"OTEL_EXPORTER_OTLP_PROTOCOL": {{value: "thrift", extra: otlpOn, fallback: "grpc", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, "grpc", otlpExp(t, s).Protocol())
	}}},
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": {{value: "json", extra: otlpOn, fallback: "grpc", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, "grpc", otlpExp(t, s).Protocol())
	}}},
	"OTEL_EXPORTER_OTLP_INSECURE": {{value: "maybe", extra: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, fallback: "false",
		check: func(t *testing.T, s *SDK) {
			assert.NotNil(t, otlpExp(t, s).TLSConfig(), "an endpoint without a scheme gets TLS")
		}}},
	"OTEL_EXPORTER_OTLP_HEADERS": {{value: "api-key", extra: otlpOn, secret: true, fallback: "the other entries", check: func(t *testing.T, s *SDK) {
		assert.Empty(t, otlpExp(t, s).HeaderNames())
	}}},
	"OTEL_EXPORTER_OTLP_COMPRESSION": {{value: "zip", extra: otlpOn, fallback: "none", check: func(t *testing.T, s *SDK) {
		assert.False(t, otlpExp(t, s).Compressed())
	}}},
	"OTEL_EXPORTER_OTLP_TIMEOUT": {{value: "soon", extra: otlpOn, fallback: "10000", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, 10*time.Second, otlpExp(t, s).Timeout())
	}}},
	// TLS material that was asked for and cannot be used turns OTLP export
	// off rather than widening the trust set (docs/OTLP.md).
	"OTEL_EXPORTER_OTLP_CERTIFICATE":        {{value: "/nonexistent/ca.pem", extra: otlpTLS, fallback: "no OTLP export", check: noOTLP}},
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": {{value: "/nonexistent/cert.pem", extra: otlpTLS, fallback: "no OTLP export", check: noOTLP}},
	"OTEL_EXPORTER_OTLP_CLIENT_KEY":         {{value: "/nonexistent/key.pem", extra: otlpTLS, fallback: "no OTLP export", check: noOTLP}},
	"OTEL_BSP_SCHEDULE_DELAY": {{value: "-1", extra: otlpOn, fallback: "5000", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, 5*time.Second, s.otlpBatch.Settings().Delay)
	}}},
	"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": {{value: "lots", extra: otlpOn, fallback: "512", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, 512, s.otlpBatch.Settings().BatchSize)
	}}},
	"OTEL_BSP_EXPORT_TIMEOUT": {{value: "0", extra: otlpOn, fallback: "30000", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, 30*time.Second, s.otlpBatch.Settings().ExportTimeout)
	}}},
	"OTEL_BSP_MAX_QUEUE_SIZE": {{value: "-10", extra: otlpOn, fallback: "2048", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, 2048, s.otlpBatch.Settings().QueueSize)
	}}},
	"OTEL_TRACES_SAMPLER": {{value: "nonsense", fallback: "xray", check: func(t *testing.T, s *SDK) {
		assert.Empty(t, s.Config().Traces.Sampler)
		running(t, s)
	}}},
	"OTEL_TRACES_SAMPLER_ARG": {{value: "2", extra: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio"}, fallback: "1",
		check: func(t *testing.T, s *SDK) {
			for range 20 {
				_, span := s.Tracer().Start(context.Background(), "op")
				assert.True(t, span.SpanContext().IsSampled(), "ratio 1 samples every trace")
			}
		}}},
	"OTEL_PROPAGATORS": {{value: "xray,jaeger", fallback: "xray", derived: true, check: func(t *testing.T, s *SDK) {
		assert.Equal(t, []string{"xray"}, s.Config().Traces.Propagators)
		assert.Contains(t, s.Propagator().Fields(), "X-Amzn-Trace-Id")
		assert.NotContains(t, s.Propagator().Fields(), "traceparent")
	}}},
	"AWS_XRAY_DAEMON_ADDRESS": {{value: "garbage", fallback: "127.0.0.1:2000", check: func(t *testing.T, s *SDK) {
		running(t, s) // never a silent off
		assert.Empty(t, s.Config().Traces.DaemonAddress)
	}}},
	"AWS_XRAY_TRACING_NAME": {{value: "Orders API", free: true}},
	"AWS_XRAY_SDK_DISABLED": {{value: "perhaps", fallback: "false", check: running}},
	"O11Y_XRAY_SAMPLING_RULES": {{value: "/nonexistent/rules.json", fallback: "X-Ray default rule: 1 req/s + 5 %",
		check: func(t *testing.T, s *SDK) {
			_, span := s.Tracer().Start(context.Background(), "op")
			assert.True(t, span.SpanContext().IsSampled(), "the default rule's reservoir takes the first request")
		}}},
	"O11Y_XRAY_CENTRALIZED_SAMPLING": {{value: "often", fallback: "false", check: func(t *testing.T, s *SDK) {
		assert.False(t, s.Config().Traces.CentralizedSampling)
	}}},
	"O11Y_XRAY_INDEXED_ATTRIBUTES": {{value: "tenant.id order.id", free: true}},
	"O11Y_XRAY_LOG_GROUPS":         {{value: "/ecs/orders,/ecs/orders-audit", free: true}},
	"O11Y_TRACES_QUEUE_SIZE": {
		{value: "-3", fallback: "2048", check: func(t *testing.T, s *SDK) {
			assert.Zero(t, s.Config().Traces.QueueSize, "left unset")
			assert.Equal(t, 2048, s.xray.QueueSize())
		}},
		// With OTLP the unset size is OTEL_BSP_MAX_QUEUE_SIZE's.
		{value: "0", extra: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_BSP_MAX_QUEUE_SIZE": "100"},
			fallback: "100 (OTEL_BSP_MAX_QUEUE_SIZE)", derived: true, check: func(t *testing.T, s *SDK) {
				assert.Equal(t, 100, s.otlpBatch.Settings().QueueSize)
			}},
	},
	"O11Y_RESOURCE_DETECTION": {{value: "sometimes", fallback: "true", check: func(t *testing.T, s *SDK) {
		assert.False(t, s.Config().DisableResourceDetection)
	}}},
	"O11Y_PLATFORM": {{value: "heroku", fallback: "auto-detection", check: func(t *testing.T, s *SDK) {
		assert.Empty(t, s.Config().Platform)
	}}},
	"O11Y_RESOURCE_DETECTION_EC2": {{value: "y", fallback: "false", check: func(t *testing.T, s *SDK) {
		assert.False(t, s.Config().DetectEC2)
	}}},
	"AWS_EMF_NAMESPACE": {{value: "AWS/Orders", fallback: "_AWS/Orders", derived: true, check: func(t *testing.T, s *SDK) {
		assert.Equal(t, "_AWS/Orders", s.Config().Metrics.Namespace)
	}}},
	"AWS_EMF_SERVICE_NAME": {{value: "orders-api", free: true}},
	"AWS_EMF_SERVICE_TYPE": {{value: "AWS::ECS::Container", free: true}},
	"AWS_EMF_ENVIRONMENT": {{value: "mars", fallback: "stdout", check: func(t *testing.T, s *SDK) {
		assert.Empty(t, s.Config().Metrics.AgentEndpoint)
		assert.NotNil(t, s.recorder)
	}}},
	"AWS_EMF_AGENT_ENDPOINT": {{value: "http://agent:25888", fallback: "stdout", check: func(t *testing.T, s *SDK) {
		assert.Empty(t, s.Config().Metrics.AgentEndpoint)
		assert.NotNil(t, s.recorder)
	}}},
	"AWS_EMF_LOG_GROUP_NAME":  {{value: "/metrics/orders", free: true}},
	"AWS_EMF_LOG_STREAM_NAME": {{value: "task-1", free: true}},
	"O11Y_METRICS_DISABLED": {{value: "nah", fallback: "false", check: func(t *testing.T, s *SDK) {
		assert.NotNil(t, s.recorder)
	}}},
	"O11Y_METRICS_FLUSH_INTERVAL": {
		{value: "-5", fallback: "60s", check: flushEvery(60 * time.Second)},
		{value: "500ms", fallback: "1s", check: flushEvery(time.Second)},
		{value: "soon", fallback: "60s", check: flushEvery(60 * time.Second)},
	},
	"O11Y_METRICS_DIMENSION_ENVIRONMENT": {{value: "sure", fallback: "false"}},
	"O11Y_METRICS_DIMENSION_VERSION":     {{value: "both", fallback: "false"}},
	"O11Y_METRICS_OTEL": {{value: "nope", fallback: "true", check: func(t *testing.T, s *SDK) {
		assert.NotNil(t, s.meterProvider)
	}}},
	"O11Y_LOG_LEVEL": {{value: "loud", fallback: "info", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, slog.LevelInfo, s.Config().Logs.Level)
	}}},
	"O11Y_LOG_DEBUG_SAMPLE_RATE": {{value: "2", fallback: "0", check: func(t *testing.T, s *SDK) {
		assert.Zero(t, s.Config().Logs.DebugSampleRate)
	}}},
	"O11Y_LOG_REDACT_KEYS": {{value: "x-secret,ssn", free: true}},
	"O11Y_ACCESS_LOG": {{value: "verbose", fallback: "info", check: func(t *testing.T, s *SDK) {
		assert.Equal(t, AccessLogInfo, s.Config().Logs.AccessLog)
	}}},
	"O11Y_LOG_SET_DEFAULT": {{value: "yes please", fallback: "false", check: func(t *testing.T, s *SDK) {
		assert.False(t, s.Config().Logs.SetDefault)
	}}},
	"O11Y_LOG_FLUSH_INTERVAL": {
		{value: "-5ms", fallback: "2ms", check: logFlush(0)},
		{value: "soon", fallback: "2ms", check: logFlush(0)},
		{value: "2s", fallback: "100ms", check: logFlush(100 * time.Millisecond)},
	},
}

// logFlush checks Logs.FlushInterval, and that the line writer uses it
// (the table's Output is a buffer: the default there is synchronous).
func logFlush(d time.Duration) func(t *testing.T, s *SDK) {
	return func(t *testing.T, s *SDK) {
		assert.Equal(t, d, s.Config().Logs.FlushInterval)
		assert.Equal(t, d, s.lines.Interval())
	}
}

var (
	otlpOn  = map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}
	otlpTLS = map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4317"}
)

func flushEvery(d time.Duration) func(t *testing.T, s *SDK) {
	return func(t *testing.T, s *SDK) {
		assert.Equal(t, d, s.Config().Metrics.FlushInterval, "one interval for the EMF recorder and the OTel reader")
	}
}

// readmeEnvVars returns every variable named in the first column of the
// README's environment table, in order, and each one's row.
func readmeEnvVars(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	f, err := os.Open("README.md")
	require.NoError(t, err)
	defer f.Close()
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	var vars []string
	rows := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "| variable | meaning | default |"):
			in = true
		case in && !strings.HasPrefix(line, "|"):
			in = false
		case in && !strings.HasPrefix(line, "|---"):
			first := strings.SplitN(line, "|", 3)[1]
			for _, m := range name.FindAllStringSubmatch(first, -1) {
				vars = append(vars, m[1])
				rows[m[1]] = line
			}
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(vars), 40, "README environment table not found")
	return vars, rows
}

// TestEnvTable walks every row of the README's environment table with an
// unusable value and checks that it is reported once, in the one format,
// naming the variable and the fallback, and that the fallback is in effect.
// Start runs as in production (installed globally), so OpenTelemetry's own
// complaints about the same variables would show up too, as reports or as
// plain-text lines on the standard logger: neither may appear.
func TestEnvTable(t *testing.T) {
	plain := &syncBuffer{}
	log.SetOutput(plain)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	restoreGlobals(t)
	vars, rows := readmeEnvVars(t)
	inReadme := map[string]bool{}
	for _, v := range vars {
		inReadme[v] = true
	}
	for v := range envCases {
		assert.True(t, inReadme[v], "%s has a case but no README row", v)
	}
	format := regexp.MustCompile(`^o11y: config: ([A-Z0-9_]+)="[^"]*": .+; using .+$`)
	for _, v := range vars {
		cases, ok := envCases[v]
		if !assert.True(t, ok, "README row %s has no case in envCases", v) {
			continue
		}
		for _, tc := range cases {
			t.Run(v+"="+tc.value, func(t *testing.T) {
				for _, other := range vars {
					t.Setenv(other, "")
					os.Unsetenv(other)
				}
				t.Setenv(v, tc.value)
				for k, x := range tc.extra {
					t.Setenv(k, x)
				}
				seen := &errorsSeen{}
				cfg := ConfigFromEnv()
				cfg.Output, cfg.ErrorHandler, cfg.DetectTimeout = &bytes.Buffer{}, seen.handle, 50*time.Millisecond
				s, startErr := Start(context.Background(), cfg)
				defer s.Shutdown(context.Background())
				reports := seen.all()
				assert.Empty(t, plain.String(), "plain-text lines from a dependency")
				plain.Reset()

				if tc.free {
					assert.Empty(t, reports, "any text is accepted")
					assert.NoError(t, startErr)
					return
				}
				require.Len(t, reports, 1, "reported once: %v", reports)
				var ce *ConfigError
				require.True(t, errors.As(reports[0], &ce), "a *ConfigError: %v", reports[0])
				assert.Regexp(t, format, ce.Error())
				assert.Equal(t, v, ce.Name, "names the variable")
				if tc.shown == "" {
					tc.shown = tc.value
				}
				assert.Equal(t, tc.shown, ce.Value)
				if tc.secret {
					assert.Equal(t, "[REDACTED]", ce.ShownValue())
					assert.NotContains(t, ce.Error(), tc.value, "the value is not shown")
				} else {
					assert.Equal(t, tc.shown, ce.ShownValue())
				}
				assert.Equal(t, tc.fallback, ce.Fallback)
				if !tc.derived {
					assert.Contains(t, strings.ReplaceAll(rows[v], "`", ""), tc.fallback, "the README row states the fallback")
				}
				require.Error(t, startErr, "Start's error carries the report too")
				assert.Contains(t, startErr.Error(), ce.Error())
				if tc.check != nil {
					tc.check(t, s)
				}
			})
		}
	}
}

// A value set in code is reported under its Config field.
func TestConfigErrorNamesField(t *testing.T) {
	seen := &errorsSeen{}
	cfg := baseConfig(&bytes.Buffer{}, seen)
	cfg.Traces.DaemonAddress = "garbage"
	cfg.Metrics.FlushInterval = -time.Second
	s, err := Start(context.Background(), cfg)
	require.Error(t, err)
	defer s.Shutdown(context.Background())
	var names []string
	for _, r := range seen.all() {
		var ce *ConfigError
		require.True(t, errors.As(r, &ce), "%v", r)
		names = append(names, ce.Name)
	}
	assert.ElementsMatch(t, []string{"Config.Traces.DaemonAddress", "Config.Metrics.FlushInterval"}, names)
	assert.NotNil(t, s.xray, "the default daemon address is used")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }
func (b *syncBuffer) Reset()         { b.mu.Lock(); defer b.mu.Unlock(); b.b.Reset() }

// restoreGlobals undoes what Start without DisableGlobals installs.
func restoreGlobals(t *testing.T) {
	tp, prop, mp, lg := otel.GetTracerProvider(), otel.GetTextMapPropagator(), otel.GetMeterProvider(), slog.Default()
	t.Cleanup(func() {
		defaultSDK.Store(nil)
		otelRoute.Store(nil)
		logging.SetDefaultHandler(nil)
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(prop)
		otel.SetMeterProvider(mp)
		slog.SetDefault(lg)
	})
}

// OTLP values set in code are checked by the exporter, reported once each
// under their Config field (headers redacted), joined into Start's error,
// and the fallbacks are in effect.
func TestOTLPConfigErrorsNameFields(t *testing.T) {
	seen := &errorsSeen{}
	cfg := baseConfig(&bytes.Buffer{}, seen)
	cfg.Traces.Exporter = "otlp"
	cfg.Traces.OTLPProtocol = "thrift"
	cfg.Traces.OTLPEndpoint = "ftp://collector:4317"
	cfg.Traces.OTLPCompression = "zip"
	cfg.Traces.OTLPTimeout = -time.Second
	cfg.Traces.OTLPHeaders = map[string]string{"bad key": "s3cret", "api-key": "k"}
	s, err := Start(context.Background(), cfg)
	require.Error(t, err)
	defer s.Shutdown(context.Background())
	want := map[string]string{
		"Config.Traces.OTLPProtocol":    `o11y: config: Config.Traces.OTLPProtocol="thrift": unknown OTLP protocol (want grpc or http/protobuf); using grpc`,
		"Config.Traces.OTLPEndpoint":    `o11y: config: Config.Traces.OTLPEndpoint="ftp://collector:4317": scheme must be http or https (or dns:///host:port); using http://localhost:4317`,
		"Config.Traces.OTLPCompression": `o11y: config: Config.Traces.OTLPCompression="zip": unknown compression (want gzip or none); using none`,
		"Config.Traces.OTLPTimeout":     `o11y: config: Config.Traces.OTLPTimeout="-1s": negative; using 10000`,
		"Config.Traces.OTLPHeaders":     `o11y: config: Config.Traces.OTLPHeaders="[REDACTED]": invalid header names "bad key"; using the other headers`,
	}
	got := map[string]string{}
	for _, r := range seen.all() {
		var ce *ConfigError
		require.True(t, errors.As(r, &ce), "%v", r)
		_, dup := got[ce.Name]
		assert.False(t, dup, "%s reported twice", ce.Name)
		got[ce.Name] = ce.Error()
		assert.Contains(t, err.Error(), ce.Error(), "Start's error joins it")
	}
	assert.Equal(t, want, got)
	assert.NotContains(t, err.Error(), "s3cret")
	e := otlpExp(t, s)
	assert.Equal(t, "http://localhost:4317", e.Endpoint())
	assert.Equal(t, "grpc", e.Protocol())
	assert.False(t, e.Compressed())
	assert.Equal(t, 10*time.Second, e.Timeout())
	assert.Equal(t, []string{"api-key"}, e.HeaderNames())
}
