package o11y

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/o11y-go/o11y/internal/configerr"
	"github.com/o11y-go/o11y/internal/emfspec"
	"github.com/o11y-go/o11y/internal/spanbatch"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// source is how a report names a setting and its value: the environment
// variable and its text when ConfigFromEnv read the value from it (same
// tells whether the variable's text gives the value), else the Config field
// and value.
func (c *Config) source(field, value string, same func(string) bool, envs ...string) (name, shown string) {
	if same == nil {
		same = func(v string) bool { return strings.EqualFold(v, strings.TrimSpace(value)) }
	}
	if c.getenv != nil {
		for _, e := range envs {
			if v := strings.TrimSpace(c.getenv(e)); v != "" && same(v) {
				return e, v
			}
		}
	}
	return "Config." + field, value
}

// validate replaces every unusable value in c by its documented fallback and
// returns one *ConfigError per replacement. Values ConfigFromEnv could not
// parse at all were replaced there (c.envWarnings); this checks what parsed
// but cannot be used, whether it came from the environment or from code.
func (c *Config) validate() []*ConfigError {
	var errs []*ConfigError
	badAs := func(field, value string, same func(string) bool, problem, fallback string, envs ...string) {
		name, shown := c.source(field, value, same, envs...)
		errs = append(errs, configerr.New(name, shown, problem, fallback))
	}
	bad := func(field, value, problem, fallback string, envs ...string) {
		badAs(field, value, nil, problem, fallback, envs...)
	}
	t := &c.Traces

	// Traces.
	switch e := Exporter(strings.ToLower(strings.TrimSpace(string(t.Exporter)))); e {
	case "", ExporterXRay, ExporterOTLP, ExporterNone:
		t.Exporter = e
	default:
		fallback := ExporterXRay
		if unset := (TracesConfig{OTLPEndpoint: t.OTLPEndpoint}); otlpChosen(&unset, c.env()) {
			fallback = ExporterOTLP
		}
		bad("Traces.Exporter", string(t.Exporter), "unknown traces exporter (want xray, otlp or none)", string(fallback), "OTEL_TRACES_EXPORTER")
		t.Exporter = fallback
	}
	if _, _, err := xrayudp.ParseDaemonAddress(t.DaemonAddress); err != nil {
		bad("Traces.DaemonAddress", t.DaemonAddress, `not "host:port" or "tcp:host:port udp:host:port"`,
			xrayudp.DefaultDaemonAddress, "AWS_XRAY_DAEMON_ADDRESS")
		t.DaemonAddress = ""
	}
	if _, err := tracing.SamplerFromName(string(t.Sampler), "", nil); err != nil {
		bad("Traces.Sampler", string(t.Sampler), "unknown sampler (want xray, always_on, always_off, traceidratio, "+
			"parentbased_always_on, parentbased_always_off or parentbased_traceidratio)", "xray", "OTEL_TRACES_SAMPLER")
		t.Sampler, t.SamplerArg = "", ""
	} else if _, err := tracing.SamplerFromName(string(t.Sampler), t.SamplerArg, nil); err != nil {
		bad("Traces.SamplerArg", t.SamplerArg, "not a ratio in [0, 1]", "1", "OTEL_TRACES_SAMPLER_ARG")
		t.SamplerArg = ""
	}
	if len(t.Propagators) > 0 {
		if _, err := tracing.ParsePropagators(t.Propagators...); err != nil {
			var known, unknown []string
			for _, p := range t.Propagators {
				switch strings.ToLower(strings.TrimSpace(p)) {
				case "xray", "xray-lambda", "tracecontext", "baggage", "none", "":
					known = append(known, p)
				default:
					unknown = append(unknown, p)
				}
			}
			fallback := strings.Join(known, ",")
			if len(known) == 0 {
				fallback = "xray,tracecontext,baggage"
			}
			joined := strings.Join(t.Propagators, ",")
			sameList := func(v string) bool { return strings.EqualFold(strings.Join(splitList(v), ","), joined) }
			badAs("Traces.Propagators", joined, sameList, "unknown propagators "+strings.Join(unknown, ", ")+
				" (want xray, tracecontext, baggage or none)", fallback, "OTEL_PROPAGATORS")
			t.Propagators = known
		}
	}
	if t.QueueSize < 0 {
		badAs("Traces.QueueSize", strconv.Itoa(t.QueueSize), nil, "not a positive integer", queueFallback(t, c.env()), "O11Y_TRACES_QUEUE_SIZE")
		t.QueueSize = 0
	}
	// The OTLP protocol and endpoint (and every other OTEL_EXPORTER_OTLP_*
	// and OTEL_BSP_* value, from code or the environment) are checked in
	// one place: internal/otlpexport and internal/spanbatch, which own the
	// environment precedence and report each unusable value as a
	// *ConfigError through the SDK's reporter.

	// Resource.
	switch strings.ToLower(strings.TrimSpace(string(c.Platform))) {
	case "", "ecs", "aws_ecs", "fargate", "apprunner", "app_runner", "aws_app_runner", "lambda", "aws_lambda",
		"eks", "aws_eks", "k8s", "kubernetes", "ec2", "aws_ec2", "none", "off", "false", "local":
	default:
		bad("Platform", string(c.Platform), "unknown platform (want ecs, apprunner, lambda, eks, ec2 or none)", "auto-detection", "O11Y_PLATFORM")
		c.Platform = ""
	}

	// Metrics.
	m := &c.Metrics
	if m.Namespace != "" {
		if ns, changed := emfspec.SanitizeNamespace(m.Namespace, c.ServiceName); changed {
			bad("Metrics.Namespace", m.Namespace, "not a valid CloudWatch namespace ([A-Za-z0-9._#:/ -], at most 255 bytes, not AWS/…)",
				ns, "AWS_EMF_NAMESPACE")
			m.Namespace = ns
		}
	}
	if m.AgentEndpoint != "" {
		if _, _, err := emfspec.ParseAgentEndpoint(m.AgentEndpoint); err != nil {
			bad("Metrics.AgentEndpoint", m.AgentEndpoint, "not tcp://host:port or udp://host:port", "stdout", "AWS_EMF_AGENT_ENDPOINT")
			m.AgentEndpoint = ""
		}
	}
	sameDur := func(v string) bool { d, ok := parseDuration(v); return ok && d == m.FlushInterval }
	switch iv := m.FlushInterval; {
	case iv < 0:
		badAs("Metrics.FlushInterval", iv.String(), sameDur, "negative", durationText(metrics.DefaultFlushInterval), "O11Y_METRICS_FLUSH_INTERVAL")
		m.FlushInterval = metrics.DefaultFlushInterval
	case iv > 0 && iv < metrics.MinFlushInterval:
		// One value for both readers (the EMF recorder and the OTel
		// meter provider's periodic reader).
		badAs("Metrics.FlushInterval", iv.String(), sameDur, "below the 1s minimum", durationText(metrics.MinFlushInterval), "O11Y_METRICS_FLUSH_INTERVAL")
		m.FlushInterval = metrics.MinFlushInterval
	}

	// Logs.
	l := &c.Logs
	if r := l.DebugSampleRate; r < 0 || r > 1 || math.IsNaN(r) {
		sameF := func(v string) bool {
			f, err := strconv.ParseFloat(v, 64)
			return err == nil && (f == r || f != f && r != r)
		}
		badAs("Logs.DebugSampleRate", strconv.FormatFloat(r, 'g', -1, 64), sameF, "not a number in [0, 1]", "0", "O11Y_LOG_DEBUG_SAMPLE_RATE")
		l.DebugSampleRate = 0
	}
	switch strings.ToLower(strings.TrimSpace(string(l.AccessLog))) {
	case "", "info", "debug", "warn", "warning", "off", "none", "false", "0":
	default:
		bad("Logs.AccessLog", string(l.AccessLog), "unknown access-log level (want info, debug, warn or off)", "info", "O11Y_ACCESS_LOG")
		l.AccessLog = AccessLogInfo
	}
	if iv := l.FlushInterval; iv > maxLogFlush {
		sameLog := func(v string) bool { d, ok := parseDuration(v); return ok && d == iv }
		badAs("Logs.FlushInterval", iv.String(), sameLog, "above the 100ms maximum (the window of log lines a crash can lose)",
			durationText(maxLogFlush), "O11Y_LOG_FLUSH_INTERVAL")
		l.FlushInterval = maxLogFlush
	}
	return errs
}

// otlpChosen says whether Start exports traces with OTLP: named, or the
// exporter left unset and an OTLP endpoint set in code or the environment.
func otlpChosen(t *TracesConfig, getenv func(string) string) bool {
	switch Exporter(strings.ToLower(strings.TrimSpace(string(t.Exporter)))) {
	case ExporterOTLP:
		return true
	case "":
		return strings.TrimSpace(t.OTLPEndpoint) != "" ||
			strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != "" ||
			strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != ""
	}
	return false
}

// queueFallback is the queue size in effect when Traces.QueueSize is left
// unset: OTEL_BSP_MAX_QUEUE_SIZE for OTLP when it is usable, else 2048
// (internal/spanbatch reports an unusable OTEL_BSP_MAX_QUEUE_SIZE itself).
func queueFallback(t *TracesConfig, getenv func(string) string) string {
	if otlpChosen(t, getenv) {
		v := strings.TrimSpace(getenv("OTEL_BSP_MAX_QUEUE_SIZE"))
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return v + " (OTEL_BSP_MAX_QUEUE_SIZE)"
		}
	}
	return strconv.Itoa(spanbatch.DefaultQueueSize)
}

// durationText prints whole seconds the way the README writes them ("60s").
func durationText(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// withDefaults fills the settings left at their zero value (after
// validate) with the defaults Start uses.
func (c Config) withDefaults() Config {
	if c.ServiceName == "" {
		c.ServiceName = filepath.Base(os.Args[0])
		if c.ServiceName == "" || c.ServiceName == "." {
			c.ServiceName = "unknown_service"
		}
	}
	if c.DetectTimeout <= 0 {
		c.DetectTimeout = 500 * time.Millisecond
	}
	if c.Metrics.Namespace == "" {
		c.Metrics.Namespace = c.ServiceName
	}
	if c.Metrics.FlushInterval <= 0 {
		c.Metrics.FlushInterval = 60 * time.Second
	}
	if c.Traces.MaxAttributeLength == 0 {
		c.Traces.MaxAttributeLength = 8192
	}
	return c
}
