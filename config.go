package o11y

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/configerr"
	"github.com/o11y-go/o11y/metrics"
)

// Config is the whole SDK configuration. Its zero value works: traces go to an
// X-Ray daemon at 127.0.0.1:2000 (if none listens, spans are dropped and
// counted), EMF metrics and JSON logs go to stdout.
//
// Environment variables are read by [ConfigFromEnv] (the README has the
// table), except that OTLP settings left empty fall back to the
// OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables when OTLP is the exporter,
// also for a Config built in code.
type Config struct {
	// ServiceName names the service: the X-Ray segment name, the EMF Service
	// dimension and the log "service" field. Default: OTEL_SERVICE_NAME, else
	// the executable name.
	ServiceName string
	// ServiceVersion is service.version on the resource and "version" in logs.
	ServiceVersion string
	// Environment is deployment.environment ("prod", "staging", …).
	Environment string
	// ResourceAttributes are extra resource attributes (OTEL_RESOURCE_ATTRIBUTES).
	ResourceAttributes map[string]string
	// Disabled (OTEL_SDK_DISABLED=true) turns off what OpenTelemetry would
	// produce: no spans are recorded or exported, no metrics are written;
	// incoming trace context is still forwarded. Log lines are still
	// written: they are the application's output, not an exported signal.
	Disabled bool
	// Output receives log lines and EMF documents, whole lines only: one
	// Write per line, or per batch of lines (Logs.FlushInterval).
	// Default os.Stdout.
	Output io.Writer
	// DetectResource enables platform detection (ECS task metadata, EC2,
	// App Runner, Lambda). It never blocks Start for longer than
	// DetectTimeout and never fails it. Default true unless set by
	// ConfigFromEnv (O11Y_RESOURCE_DETECTION=false turns it off).
	DisableResourceDetection bool
	// DetectTimeout bounds resource detection. Default 500ms.
	DetectTimeout time.Duration
	// Platform forces the platform instead of detecting it: "ecs",
	// "apprunner", "eks", "ec2", "lambda". App Runner exposes no identifying
	// variable, so set it there (O11Y_PLATFORM=apprunner).
	Platform string
	// DetectEC2 enables the EC2 instance-metadata probe (EC2 and EKS). Off
	// by default: off AWS the probe costs the whole DetectTimeout.
	DetectEC2 bool
	// SkipGlobal keeps Start from installing the SDK as [Default], as the
	// OpenTelemetry global tracer provider and propagator, and as slog's
	// default. Tests that run several SDKs side by side set it. OpenTelemetry's
	// global error handler and internal logger are then left alone too, so
	// its own messages (about OTEL_TRACES_SAMPLER, for one) print as it decides.
	SkipGlobal bool
	// ErrorHandler receives the SDK's own failures (export errors, dropped
	// data, bad input), already rate-limited, and each unusable
	// configuration value once, as a *[ConfigError]. Default: one JSON line
	// per problem on stderr (see the package documentation).
	ErrorHandler func(error)

	Traces  TracesConfig
	Metrics MetricsConfig
	Logs    LogsConfig

	// envWarnings are ConfigFromEnv's complaints, reported by Start.
	envWarnings []*ConfigError
	// getenv is set by ConfigFromEnv; see env.
	getenv func(string) string
}

// TracesConfig configures tracing.
type TracesConfig struct {
	// Exporter is "xray" (X-Ray daemon over UDP), "otlp", or "none".
	// Default: "otlp" when an OTLP endpoint is set, else "xray".
	Exporter string
	// DaemonAddress is the X-Ray daemon address in either AWS_XRAY_DAEMON_ADDRESS
	// form: "host:port" or "tcp:host:port udp:host:port". Default 127.0.0.1:2000.
	DaemonAddress string
	// OTLPEndpoint is the OTLP traces endpoint, with the meaning of
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: http://localhost:4317 (gRPC, any
	// path ignored) or http://collector:4318/v1/traces (HTTP, used as is).
	// https:// means TLS, http:// plaintext; without a scheme, TLS unless
	// OTLPInsecure. Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
	// OTEL_EXPORTER_OTLP_ENDPOINT as a base URL (HTTP appends /v1/traces).
	//
	// Every OTLP field left at its zero value falls back to its
	// OTEL_EXPORTER_OTLP_* variable, also when the Config is built in code;
	// a field that is set wins. An unusable value is reported as a
	// ConfigError naming the field (Config.Traces.OTLPEndpoint) and its
	// fallback; an unusable endpoint keeps OTLP on at the default.
	OTLPEndpoint string
	// OTLPProtocol is "grpc" (default) or "http/protobuf".
	OTLPProtocol string
	// OTLPHeaders are sent with every OTLP export (API keys). Non-nil
	// replaces OTEL_EXPORTER_OTLP_HEADERS.
	OTLPHeaders map[string]string
	// OTLPTimeout bounds one OTLP export, retries included.
	// Default OTEL_EXPORTER_OTLP_TIMEOUT, else 10s.
	OTLPTimeout time.Duration
	// OTLPCompression is "gzip" or "none" (OTEL_EXPORTER_OTLP_COMPRESSION).
	OTLPCompression string
	// OTLPInsecure sends plaintext to an endpoint given without a scheme
	// (OTEL_EXPORTER_OTLP_INSECURE). An http:// or https:// scheme decides
	// by itself.
	OTLPInsecure bool
	// OTLPTLSConfig configures TLS to the collector: RootCAs for a private
	// CA, Certificates for mutual TLS. Non-nil replaces
	// OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY.
	OTLPTLSConfig *tls.Config
	// Sampler is an OTEL_TRACES_SAMPLER name. Default "xray": X-Ray's rule
	// (1 request/s reservoir + 5%), parent-based.
	Sampler string
	// SamplerArg is OTEL_TRACES_SAMPLER_ARG.
	SamplerArg string
	// SamplingRulesFile is a local X-Ray sampling-rules JSON file.
	SamplingRulesFile string
	// CentralizedSampling polls X-Ray sampling rules through the daemon's TCP
	// proxy, falling back to local rules when it is unreachable.
	CentralizedSampling bool
	// Propagators lists OTEL_PROPAGATORS names. Default: xray, tracecontext, baggage.
	Propagators []string
	// SegmentName overrides the X-Ray segment name (AWS_XRAY_TRACING_NAME).
	SegmentName string
	// IndexedAttributes are span attribute keys always written as X-Ray
	// annotations (searchable) rather than metadata.
	IndexedAttributes []string
	// LogGroupNames are written to segments' aws.cloudwatch_logs so the X-Ray
	// console can find a trace's log lines. Default: detected (ECS awslogs).
	LogGroupNames []string
	// QueueSize bounds the spans waiting for export. 0: 2048 (for OTLP,
	// OTEL_BSP_MAX_QUEUE_SIZE when set and usable).
	QueueSize int
	// MaxAttributeLength cuts span (and event) attribute string values to
	// this many bytes, so a huge value cannot pin memory in the export queue.
	// Segments are limited to 64 KiB anyway. Default 8192; negative means no
	// limit.
	MaxAttributeLength int
	// SpanProcessors are added to the tracer provider besides the exporter
	// (an in-memory recorder in tests, a custom processor in production).
	SpanProcessors []sdktrace.SpanProcessor
}

// MetricsConfig configures EMF metrics.
type MetricsConfig struct {
	// Disabled turns off request metrics and EMF output.
	Disabled bool
	// Namespace is the CloudWatch namespace. Default AWS_EMF_NAMESPACE, else
	// the service name.
	Namespace string
	// ServiceType is AWS_EMF_SERVICE_TYPE (a property, not a dimension).
	ServiceType string
	// LogGroupName and LogStreamName route documents through the CloudWatch
	// agent (only used with AgentEndpoint).
	LogGroupName  string
	LogStreamName string
	// AgentEndpoint sends EMF to a CloudWatch agent ("tcp://host:port" or
	// "udp://host:port") instead of Output.
	AgentEndpoint string
	// FlushInterval is how often aggregates are written. Default 60s.
	FlushInterval time.Duration
	// DimensionEnvironment and DimensionVersion add [Service, Environment]
	// and [Service, Version] dimension sets (each multiplies metric cost).
	DimensionEnvironment bool
	DimensionVersion     bool
	// DisableOTelMetrics stops Start from installing an OpenTelemetry
	// MeterProvider whose instruments (from OTel instrumentation libraries
	// or your own meters) are exported as EMF every FlushInterval.
	DisableOTelMetrics bool
}

// LogsConfig configures the JSON logger.
type LogsConfig struct {
	// Level is the minimum level. Default Info.
	Level slog.Level
	// SetDefault installs the SDK's logger as slog.Default.
	SetDefault bool
	// DebugSampleRate is the share (0..1) of requests whose Debug lines are
	// logged whatever the Level.
	DebugSampleRate float64
	// RedactKeys replaces the default redacted keys when non-nil.
	RedactKeys []string
	// AccessLog controls the per-request access line: "info" (default),
	// "debug", or "off".
	AccessLog string
	// FlushInterval bounds how long a log line or EMF document waits in a
	// buffer before it reaches Output: lines are written in one Write for
	// many, when the 64 KiB buffer fills, when this window ends, on
	// Shutdown and ForceFlush, and when the middleware recovers a panic.
	// Lines still buffered when the process dies without Shutdown (os.Exit,
	// a fatal runtime error, SIGKILL, an OOM kill) are lost: at most this
	// window's worth. 0: the default, 2ms when Output is an *os.File
	// (stdout included), synchronous for other writers; negative:
	// synchronous, one Write per line. At most 100ms.
	// (O11Y_LOG_FLUSH_INTERVAL; 0 there means synchronous.)
	FlushInterval time.Duration
}

// Log flush window: the default for an *os.File Output, and the bound.
const (
	defaultLogFlush = 2 * time.Millisecond
	maxLogFlush     = 100 * time.Millisecond
)

// env is what platform detection and the OTLP exporter read variables
// with: the one ConfigFromEnv set, else the process environment.
func (c *Config) env() func(string) string {
	if c.getenv != nil {
		return c.getenv
	}
	return os.Getenv
}

// ConfigFromEnv returns a Config filled from the environment. Besides the
// platform variables read by resource detection and the OTLP exporter's
// own OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables, it is the only place
// the SDK reads environment variables. An unusable value is replaced by the
// variable's default and reported once, as a [ConfigError] naming the
// variable, through the ErrorHandler by Start (whether or not the caller
// reads Start's error).
func ConfigFromEnv() Config {
	c, warns := configFromLookup(os.LookupEnv)
	c.envWarnings = warns
	c.getenv = os.Getenv
	return c
}

func configFromLookup(lookup func(string) (string, bool)) (Config, []*ConfigError) {
	var c Config
	var warns []*ConfigError
	warn := func(k, v, problem, fallback string) {
		warns = append(warns, configerr.New(k, v, problem, fallback))
	}
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	// boolVar reads a boolean; def is the documented default, used (and
	// named in the report) when the value is not a boolean.
	boolVar := func(k string, def bool) (bool, bool) {
		v := get(k)
		if v == "" {
			return false, false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			warn(k, v, "not a boolean (want true or false)", strconv.FormatBool(def))
			return false, false
		}
		return b, true
	}
	durVar := func(k string, def time.Duration) time.Duration {
		v := get(k)
		if v == "" {
			return 0
		}
		if d, ok := parseDuration(v); ok {
			return d
		}
		warn(k, v, "not a duration (want e.g. 60s, 1m or plain seconds)", durationText(def))
		return 0
	}
	list := func(k string) []string { return splitList(get(k)) }

	if b, ok := boolVar("OTEL_SDK_DISABLED", false); ok {
		c.Disabled = b
	}
	var skipped []string
	c.ResourceAttributes, skipped = parseResourceAttributes(get("OTEL_RESOURCE_ATTRIBUTES"))
	if len(skipped) > 0 {
		// Only the malformed entries are quoted: the others are fine and
		// may be long.
		warn("OTEL_RESOURCE_ATTRIBUTES", strings.Join(skipped, ","), "malformed entries (want key=value, value percent-encoded)", "the other entries")
	}
	c.ServiceName = get("OTEL_SERVICE_NAME")
	if c.ServiceName == "" {
		c.ServiceName = c.ResourceAttributes["service.name"]
	}
	c.ServiceVersion = c.ResourceAttributes["service.version"]
	c.Environment = c.ResourceAttributes["deployment.environment.name"]
	if c.Environment == "" {
		c.Environment = c.ResourceAttributes["deployment.environment"]
	}
	if b, ok := boolVar("O11Y_RESOURCE_DETECTION", true); ok {
		c.DisableResourceDetection = !b
	}
	c.Platform = strings.ToLower(get("O11Y_PLATFORM"))
	if b, ok := boolVar("O11Y_RESOURCE_DETECTION_EC2", false); ok {
		c.DetectEC2 = b
	}

	// Traces.
	t := &c.Traces
	t.Exporter = strings.ToLower(get("OTEL_TRACES_EXPORTER"))
	t.DaemonAddress = get("AWS_XRAY_DAEMON_ADDRESS")
	// Only the signal URL: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL the
	// exporter completes itself (internal/otlpexport).
	t.OTLPEndpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	t.OTLPProtocol = get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if t.OTLPProtocol == "" {
		t.OTLPProtocol = get("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	t.Sampler = strings.ToLower(get("OTEL_TRACES_SAMPLER"))
	t.SamplerArg = get("OTEL_TRACES_SAMPLER_ARG")
	t.SamplingRulesFile = get("O11Y_XRAY_SAMPLING_RULES")
	if b, ok := boolVar("O11Y_XRAY_CENTRALIZED_SAMPLING", false); ok {
		t.CentralizedSampling = b
	}
	t.Propagators = list("OTEL_PROPAGATORS")
	t.SegmentName = get("AWS_XRAY_TRACING_NAME")
	t.IndexedAttributes = list("O11Y_XRAY_INDEXED_ATTRIBUTES")
	if g := c.ResourceAttributes["aws.log.group.names"]; g != "" {
		t.LogGroupNames = strings.Split(g, "&")
	}
	t.LogGroupNames = append(t.LogGroupNames, list("O11Y_XRAY_LOG_GROUPS")...)
	badQueue := ""
	if v := get("O11Y_TRACES_QUEUE_SIZE"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			t.QueueSize = n
		} else {
			badQueue = v
		}
	}
	if b, ok := boolVar("AWS_XRAY_SDK_DISABLED", false); ok && b && t.Exporter == "" {
		t.Exporter = "none"
	}
	if badQueue != "" {
		// The fallback depends on the exporter, known only now.
		warn("O11Y_TRACES_QUEUE_SIZE", badQueue, "not a positive integer", queueFallback(t, get))
	}

	// Metrics.
	m := &c.Metrics
	if b, ok := boolVar("O11Y_METRICS_DISABLED", false); ok {
		m.Disabled = b
	}
	m.Namespace = get("AWS_EMF_NAMESPACE")
	if n := get("AWS_EMF_SERVICE_NAME"); n != "" && c.ServiceName == "" {
		c.ServiceName = n
	}
	m.ServiceType = get("AWS_EMF_SERVICE_TYPE")
	m.LogGroupName = get("AWS_EMF_LOG_GROUP_NAME")
	m.LogStreamName = get("AWS_EMF_LOG_STREAM_NAME")
	m.AgentEndpoint = get("AWS_EMF_AGENT_ENDPOINT")
	switch e := get("AWS_EMF_ENVIRONMENT"); strings.ToLower(e) {
	case "":
	case "local", "lambda":
		m.AgentEndpoint = "" // stdout, as in the official libraries
	case "agent", "ec2", "ecs":
		if m.AgentEndpoint == "" {
			m.AgentEndpoint = "tcp://127.0.0.1:25888" // the agent's default EMF listener
		}
	default:
		fallback := "stdout"
		if m.AgentEndpoint != "" {
			fallback = "AWS_EMF_AGENT_ENDPOINT"
		}
		warn("AWS_EMF_ENVIRONMENT", e, "unknown environment (want Agent, EC2, ECS, Local or Lambda)", fallback)
	}
	m.FlushInterval = durVar("O11Y_METRICS_FLUSH_INTERVAL", metrics.DefaultFlushInterval)
	if b, ok := boolVar("O11Y_METRICS_DIMENSION_ENVIRONMENT", false); ok {
		m.DimensionEnvironment = b
	}
	if b, ok := boolVar("O11Y_METRICS_DIMENSION_VERSION", false); ok {
		m.DimensionVersion = b
	}
	if b, ok := boolVar("O11Y_METRICS_OTEL", true); ok {
		m.DisableOTelMetrics = !b
	}

	// Logs.
	l := &c.Logs
	if v := get("O11Y_LOG_LEVEL"); v != "" {
		if err := l.Level.UnmarshalText([]byte(v)); err != nil {
			l.Level = slog.LevelInfo
			warn("O11Y_LOG_LEVEL", v, "not a level (want debug, info, warn, error, or e.g. info+2)", "info")
		}
	}
	if v := get("O11Y_LOG_DEBUG_SAMPLE_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			warn("O11Y_LOG_DEBUG_SAMPLE_RATE", v, "not a number in [0, 1]", "0")
		} else {
			l.DebugSampleRate = f
		}
	}
	if v, ok := lookup("O11Y_LOG_REDACT_KEYS"); ok {
		l.RedactKeys = list("O11Y_LOG_REDACT_KEYS")
		if l.RedactKeys == nil && strings.TrimSpace(v) == "" {
			l.RedactKeys = []string{}
		}
	}
	l.AccessLog = strings.ToLower(get("O11Y_ACCESS_LOG"))
	if v := get("O11Y_LOG_FLUSH_INTERVAL"); v != "" {
		switch d, ok := parseDuration(v); {
		case !ok || d < 0:
			warn("O11Y_LOG_FLUSH_INTERVAL", v, "not a duration >= 0 (want e.g. 2ms, or 0 for one write per line)", durationText(defaultLogFlush))
		case d == 0:
			l.FlushInterval = -1 // synchronous
		default:
			l.FlushInterval = d
		}
	}
	if b, ok := boolVar("O11Y_LOG_SET_DEFAULT", false); ok {
		l.SetDefault = b
	}
	return c, warns
}

// parseDuration reads a Go duration ("90s", "1m") or plain seconds ("60").
func parseDuration(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, true
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}

// splitList splits a comma- or space-separated list, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseResourceAttributes parses the OTEL_RESOURCE_ATTRIBUTES form
// "k1=v1,k2=v2" with percent-encoded values. Malformed pairs are skipped
// and returned (key only when the value is badly encoded), as the spec
// asks: the other pairs still apply.
func parseResourceAttributes(s string) (map[string]string, []string) {
	if s == "" {
		return nil, nil
	}
	out := make(map[string]string)
	var skipped []string
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			skipped = append(skipped, strings.TrimSpace(kv))
			continue
		}
		v = strings.TrimSpace(v)
		dec, err := urlUnescape(v)
		if err != nil {
			skipped = append(skipped, k+"=…")
			continue
		}
		out[k] = dec
	}
	return out, skipped
}

func urlUnescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}
