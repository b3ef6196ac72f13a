package o11y

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/mwcore"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
		warns int
	}{
		{
			name: "empty environment gives the zero config",
			env:  nil,
			check: func(t *testing.T, c Config) {
				assert.Equal(t, Config{}, c)
			},
		},
		{
			name: "service identity from OTEL variables",
			env: map[string]string{
				"OTEL_SERVICE_NAME":        "orders",
				"OTEL_RESOURCE_ATTRIBUTES": "service.version=1.4.2, deployment.environment=prod,team=pay%20ments,bad,=x",
			},
			warns: 1, // "bad" and "=x" are skipped, in one report
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "orders", c.ServiceName)
				assert.Equal(t, "1.4.2", c.ServiceVersion)
				assert.Equal(t, "prod", c.Environment)
				assert.Equal(t, "pay ments", c.ResourceAttributes["team"])
				assert.NotContains(t, c.ResourceAttributes, "bad")
			},
		},
		{
			name: "service.name resource attribute is the fallback, OTEL_SERVICE_NAME wins",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=fromattrs,deployment.environment.name=stg,deployment.environment=old"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "fromattrs", c.ServiceName)
				assert.Equal(t, "stg", c.Environment)
			},
		},
		{
			name: "disabled",
			env:  map[string]string{"OTEL_SDK_DISABLED": "true"},
			check: func(t *testing.T, c Config) {
				assert.True(t, c.Disable)
			},
		},
		{
			name:  "unparseable boolean is reported and ignored",
			env:   map[string]string{"OTEL_SDK_DISABLED": "yes please"},
			warns: 1,
			check: func(t *testing.T, c Config) { assert.False(t, c.Disable) },
		},
		{
			name: "traces: signal-specific OTLP endpoint and protocol win",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://collector:4317",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "grpc",
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
				"OTEL_TRACES_SAMPLER":                "ParentBased_TraceIdRatio",
				"OTEL_TRACES_SAMPLER_ARG":            "0.25",
				"OTEL_PROPAGATORS":                   "xray, tracecontext,baggage",
				"AWS_XRAY_DAEMON_ADDRESS":            "tcp:127.0.0.1:2000 udp:127.0.0.2:2001",
				"AWS_XRAY_TRACING_NAME":              "orders-api",
				"O11Y_XRAY_INDEXED_ATTRIBUTES":       "tenant.id,order.id",
				"O11Y_XRAY_CENTRALIZED_SAMPLING":     "1",
				"O11Y_XRAY_SAMPLING_RULES":           "/etc/rules.json",
			},
			check: func(t *testing.T, c Config) {
				tr := c.Traces
				assert.Equal(t, "http://collector:4318/v1/traces", tr.OTLPEndpoint)
				assert.Equal(t, OTLPProtocolHTTPProtobuf, tr.OTLPProtocol)
				assert.Equal(t, SamplerParentBasedTraceIDRatio, tr.Sampler)
				assert.Equal(t, "0.25", tr.SamplerArg)
				assert.Equal(t, []string{"xray", "tracecontext", "baggage"}, tr.Propagators)
				assert.Equal(t, "tcp:127.0.0.1:2000 udp:127.0.0.2:2001", tr.DaemonAddress)
				assert.Equal(t, "orders-api", tr.SegmentName)
				assert.Equal(t, []string{"tenant.id", "order.id"}, tr.IndexedAttributes)
				assert.True(t, tr.CentralizedSampling)
				assert.Equal(t, "/etc/rules.json", tr.SamplingRulesFile)
			},
		},
		{
			name: "log groups from resource attributes",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "aws.log.group.names=/ecs/orders&/ecs/other"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, []string{"/ecs/orders", "/ecs/other"}, c.Traces.LogGroupNames)
			},
		},
		{
			name: "AWS_XRAY_SDK_DISABLED turns the trace exporter off",
			env:  map[string]string{"AWS_XRAY_SDK_DISABLED": "true"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ExporterNone, c.Traces.Exporter)
			},
		},
		{
			name: "metrics from AWS_EMF variables",
			env: map[string]string{
				"AWS_EMF_NAMESPACE":           "Shop",
				"AWS_EMF_SERVICE_NAME":        "orders",
				"AWS_EMF_SERVICE_TYPE":        "AWS::ECS::Container",
				"AWS_EMF_AGENT_ENDPOINT":      "tcp://127.0.0.1:25888",
				"AWS_EMF_LOG_GROUP_NAME":      "orders-metrics",
				"O11Y_METRICS_FLUSH_INTERVAL": "10s",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "orders", c.ServiceName)
				assert.Equal(t, "Shop", c.Metrics.Namespace)
				assert.Equal(t, "AWS::ECS::Container", c.Metrics.ServiceType)
				assert.Equal(t, "tcp://127.0.0.1:25888", c.Metrics.AgentEndpoint)
				assert.Equal(t, "orders-metrics", c.Metrics.LogGroupName)
				assert.Equal(t, 10*time.Second, c.Metrics.FlushInterval)
			},
		},
		{
			name: "AWS_EMF_ENVIRONMENT=Local forces stdout",
			env:  map[string]string{"AWS_EMF_AGENT_ENDPOINT": "tcp://127.0.0.1:25888", "AWS_EMF_ENVIRONMENT": "local"},
			check: func(t *testing.T, c Config) {
				assert.Empty(t, c.Metrics.AgentEndpoint)
			},
		},
		{
			name: "flush interval as plain seconds",
			env:  map[string]string{"O11Y_METRICS_FLUSH_INTERVAL": "5"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, 5*time.Second, c.Metrics.FlushInterval)
			},
		},
		{
			name: "logs",
			env: map[string]string{
				"O11Y_LOG_LEVEL":             "debug",
				"O11Y_LOG_DEBUG_SAMPLE_RATE": "0.1",
				"O11Y_LOG_REDACT_KEYS":       "ssn, card_number",
				"O11Y_ACCESS_LOG":            "OFF",
				"O11Y_LOG_SET_DEFAULT":       "true",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, slog.LevelDebug, c.Logs.Level)
				assert.Equal(t, 0.1, c.Logs.DebugSampleRate)
				assert.Equal(t, []string{"ssn", "card_number"}, c.Logs.RedactKeys)
				assert.Equal(t, AccessLogOff, c.Logs.AccessLog)
				assert.True(t, c.Logs.SetDefault)
			},
		},
		{
			name: "empty redact list turns redaction off explicitly",
			env:  map[string]string{"O11Y_LOG_REDACT_KEYS": ""},
			check: func(t *testing.T, c Config) {
				assert.NotNil(t, c.Logs.RedactKeys)
				assert.Empty(t, c.Logs.RedactKeys)
			},
		},
		{
			name:  "bad values warn and keep defaults",
			env:   map[string]string{"O11Y_LOG_LEVEL": "loud", "O11Y_LOG_DEBUG_SAMPLE_RATE": "2", "O11Y_METRICS_FLUSH_INTERVAL": "soon"},
			warns: 3,
			check: func(t *testing.T, c Config) {
				assert.Equal(t, slog.LevelInfo, c.Logs.Level)
				assert.Zero(t, c.Logs.DebugSampleRate)
				assert.Zero(t, c.Metrics.FlushInterval)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warns := configFromLookup(lookupFrom(tc.env))
			assert.Len(t, warns, tc.warns, "warnings: %v", warns)
			tc.check(t, c)
		})
	}
}

// Every typed constant is a value validate accepts as is: a constant that
// drifts from the accepted spellings would be reported and replaced.
func TestTypedConstantsAreValid(t *testing.T) {
	var cfgs []Config
	for _, e := range []Exporter{ExporterXRay, ExporterOTLP, ExporterNone} {
		cfgs = append(cfgs, Config{Traces: TracesConfig{Exporter: e}})
	}
	for _, s := range []SamplerName{SamplerXRay, SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio,
		SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff, SamplerParentBasedTraceIDRatio} {
		cfgs = append(cfgs, Config{Traces: TracesConfig{Sampler: s, SamplerArg: "0.5"}})
	}
	for _, p := range []Platform{PlatformECS, PlatformAppRunner, PlatformLambda, PlatformEKS, PlatformEC2, PlatformNone} {
		cfgs = append(cfgs, Config{Platform: p})
	}
	for _, a := range []AccessLogLevel{AccessLogInfo, AccessLogDebug, AccessLogWarn, AccessLogOff} {
		cfgs = append(cfgs, Config{Logs: LogsConfig{AccessLog: a}})
	}
	for _, c := range cfgs {
		want := c
		assert.Empty(t, c.validate(), "%+v", want)
		assert.Equal(t, want, c, "kept as is")
	}
}

// An unknown value set in code is replaced by its fallback and reported,
// naming the Config field: never silent.
func TestTypedFieldsUnknownValueFallsBack(t *testing.T) {
	tests := []struct {
		name, field, fallback string
		cfg                   Config
		check                 func(t *testing.T, c Config)
	}{
		{"exporter", "Config.Traces.Exporter", "xray", Config{Traces: TracesConfig{Exporter: "zipkin"}},
			func(t *testing.T, c Config) { assert.Equal(t, ExporterXRay, c.Traces.Exporter) }},
		{"exporter with an OTLP endpoint", "Config.Traces.Exporter", "otlp",
			Config{Traces: TracesConfig{Exporter: "zipkin", OTLPEndpoint: "http://collector:4318/v1/traces"}},
			func(t *testing.T, c Config) { assert.Equal(t, ExporterOTLP, c.Traces.Exporter) }},
		{"sampler", "Config.Traces.Sampler", "xray", Config{Traces: TracesConfig{Sampler: "sometimes"}},
			func(t *testing.T, c Config) { assert.Empty(t, c.Traces.Sampler, "the default: X-Ray rules") }},
		{"platform", "Config.Platform", "auto-detection", Config{Platform: "heroku"},
			func(t *testing.T, c Config) { assert.Empty(t, c.Platform) }},
		{"access log", "Config.Logs.AccessLog", "info", Config{Logs: LogsConfig{AccessLog: "loud"}},
			func(t *testing.T, c Config) { assert.Equal(t, AccessLogInfo, c.Logs.AccessLog) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			errs := c.validate()
			require.Len(t, errs, 1)
			assert.Equal(t, tc.field, errs[0].Name)
			assert.Equal(t, tc.fallback, errs[0].Fallback)
			tc.check(t, c)
		})
	}
	// Spelling is not case-sensitive, as for the environment variable.
	c := Config{Traces: TracesConfig{Exporter: "OTLP"}}
	assert.Empty(t, c.validate())
	assert.Equal(t, ExporterOTLP, c.Traces.Exporter)
}

// The access-line constants mean what their names say in both middlewares.
func TestAccessLogLevels(t *testing.T) {
	for level, want := range map[AccessLogLevel]mwcore.Access{
		"":             {On: true, Base: slog.LevelInfo},
		AccessLogInfo:  {On: true, Base: slog.LevelInfo},
		AccessLogDebug: {On: true, Base: slog.LevelDebug},
		AccessLogWarn:  {On: true, Base: slog.LevelWarn},
		AccessLogOff:   {},
	} {
		assert.Equal(t, want, mwcore.AccessFromConfig(level), "%q", level)
	}
}

// The OTLP constants are values the exporter (which checks them) accepts.
func TestOTLPConstantsAreValid(t *testing.T) {
	for _, p := range []OTLPProtocol{OTLPProtocolGRPC, OTLPProtocolHTTPProtobuf} {
		for _, comp := range []OTLPCompression{OTLPCompressionGzip, OTLPCompressionNone} {
			var reports []error
			c := Config{getenv: func(string) string { return "" }, Traces: TracesConfig{OTLPProtocol: p, OTLPCompression: comp}}
			e, err := newOTLPExporter(&c, func(err error) { reports = append(reports, err) })
			require.NoError(t, err)
			assert.Empty(t, reports)
			assert.Equal(t, string(p), e.Protocol())
			assert.Equal(t, comp == OTLPCompressionGzip, e.Compressed())
		}
	}
}
