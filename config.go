package o11y

import (
	"crypto/tls"
	"io"
	"log/slog"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config is the whole SDK configuration. Its zero value works: traces go to an
// X-Ray daemon at 127.0.0.1:2000 (if none listens, spans are dropped and
// counted), EMF metrics and JSON logs go to stdout.
//
// Environment variables are read by [ConfigFromEnv] (the README has the
// table), except that OTLP settings left empty fall back to the
// OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables when OTLP is the exporter,
// also for a Config built in code.
//
// Every boolean field reads one way: its zero value is the default, and its
// name says what true does. Disable… turns off something that is on by
// default (Disable, DisableGlobals, DisableResourceDetection,
// Metrics.Disable, Metrics.DisableOTelMetrics); any other name turns on
// something that is off by default (DetectEC2, Traces.CentralizedSampling,
// Logs.SetDefault).
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
	// Disable (OTEL_SDK_DISABLED=true) turns off what OpenTelemetry would
	// produce: no spans are recorded or exported, no metrics are written;
	// incoming trace context is still forwarded. Log lines are still
	// written: they are the application's output, not an exported signal.
	Disable bool
	// Output receives log lines and EMF documents, whole lines only: one
	// Write per line, or per batch of lines (Logs.FlushInterval).
	// Default os.Stdout.
	Output io.Writer
	// DisableResourceDetection turns platform detection (ECS task metadata,
	// EC2, App Runner, Lambda) off (O11Y_RESOURCE_DETECTION=false). When
	// on, detection never blocks Start for longer than DetectTimeout and
	// never fails it.
	DisableResourceDetection bool
	// DetectTimeout bounds resource detection. Default 500ms.
	DetectTimeout time.Duration
	// Platform forces the platform instead of detecting it (O11Y_PLATFORM).
	// App Runner exposes no identifying variable, so set it there
	// ([PlatformAppRunner]).
	Platform Platform
	// DetectEC2 enables the EC2 instance-metadata probe (EC2 and EKS). Off
	// by default: off AWS the probe costs the whole DetectTimeout.
	DetectEC2 bool
	// DisableGlobals keeps Start from installing the SDK as [Default], as the
	// OpenTelemetry global tracer provider and propagator, and as slog's
	// default. Tests that run several SDKs side by side set it. OpenTelemetry's
	// global error handler and internal logger are then left alone too, so
	// its own messages (about OTEL_TRACES_SAMPLER, for one) print as it decides.
	DisableGlobals bool
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
	// Exporter is where spans go. Default: [ExporterOTLP] when an OTLP
	// endpoint is set, else [ExporterXRay].
	Exporter Exporter
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
	// OTLPProtocol is [OTLPProtocolGRPC] (default) or
	// [OTLPProtocolHTTPProtobuf].
	OTLPProtocol OTLPProtocol
	// OTLPHeaders are sent with every OTLP export (API keys). Non-nil
	// replaces OTEL_EXPORTER_OTLP_HEADERS.
	OTLPHeaders map[string]string
	// OTLPTimeout bounds one OTLP export, retries included.
	// Default OTEL_EXPORTER_OTLP_TIMEOUT, else 10s.
	OTLPTimeout time.Duration
	// OTLPCompression is [OTLPCompressionGzip] or [OTLPCompressionNone]
	// (default; OTEL_EXPORTER_OTLP_COMPRESSION).
	OTLPCompression OTLPCompression
	// OTLPInsecure sends plaintext to an endpoint given without a scheme
	// (OTEL_EXPORTER_OTLP_INSECURE). An http:// or https:// scheme decides
	// by itself.
	OTLPInsecure bool
	// OTLPTLSConfig configures TLS to the collector: RootCAs for a private
	// CA, Certificates for mutual TLS. Non-nil replaces
	// OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY.
	OTLPTLSConfig *tls.Config
	// Sampler is an OTEL_TRACES_SAMPLER name. Default [SamplerXRay]: X-Ray's
	// rules (1 request/s reservoir + 5% by default), parent-based.
	Sampler SamplerName
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
	// Disable turns off request metrics and EMF output.
	Disable bool
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
	// AccessLog is the level of a successful request's access line
	// (O11Y_ACCESS_LOG): [AccessLogInfo] (default), [AccessLogDebug],
	// [AccessLogWarn], or [AccessLogOff]. Client errors are logged at Warn
	// or above and faults at Error whatever it says, unless it is off.
	AccessLog AccessLogLevel
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

// The string-valued settings below have named types, so the documentation
// lists what each accepts. Each is also the text of its environment
// variable: a value read by ConfigFromEnv, or an untyped string constant
// ("otlp"), assigns as is, and Start reports an unknown value as a
// [ConfigError] and uses the fallback named there.

// Exporter is where spans go (OTEL_TRACES_EXPORTER).
type Exporter string

// Trace exporters.
const (
	ExporterXRay Exporter = "xray" // the X-Ray daemon (or the CloudWatch agent) over UDP
	ExporterOTLP Exporter = "otlp" // an OpenTelemetry collector over OTLP
	ExporterNone Exporter = "none" // spans are sampled and recorded, not exported
)

// OTLPProtocol is the OTLP transport (OTEL_EXPORTER_OTLP_PROTOCOL).
type OTLPProtocol string

// OTLP protocols. "http/json" is reported and sent as protobuf.
const (
	OTLPProtocolGRPC         OTLPProtocol = "grpc"
	OTLPProtocolHTTPProtobuf OTLPProtocol = "http/protobuf"
)

// OTLPCompression is the OTLP payload compression
// (OTEL_EXPORTER_OTLP_COMPRESSION).
type OTLPCompression string

// OTLP compressions.
const (
	OTLPCompressionGzip OTLPCompression = "gzip"
	OTLPCompressionNone OTLPCompression = "none"
)

// SamplerName is an OTEL_TRACES_SAMPLER name. The ratio samplers read
// TracesConfig.SamplerArg.
type SamplerName string

// Samplers.
const (
	SamplerXRay                    SamplerName = "xray" // X-Ray sampling rules for roots, parent-based
	SamplerAlwaysOn                SamplerName = "always_on"
	SamplerAlwaysOff               SamplerName = "always_off"
	SamplerTraceIDRatio            SamplerName = "traceidratio"
	SamplerParentBasedAlwaysOn     SamplerName = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    SamplerName = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio SamplerName = "parentbased_traceidratio"
)

// Platform is the AWS platform resource detection assumes (O11Y_PLATFORM).
// The cloud.platform spellings ("aws_ecs", …) are accepted too.
type Platform string

// Platforms.
const (
	PlatformECS       Platform = "ecs" // ECS on Fargate or EC2
	PlatformAppRunner Platform = "apprunner"
	PlatformLambda    Platform = "lambda"
	PlatformEKS       Platform = "eks"
	PlatformEC2       Platform = "ec2"
	PlatformNone      Platform = "none" // no platform detection, service attributes only
)

// AccessLogLevel is the level of a successful request's access line
// (O11Y_ACCESS_LOG).
type AccessLogLevel string

// Access-line levels.
const (
	AccessLogInfo  AccessLogLevel = "info"
	AccessLogDebug AccessLogLevel = "debug"
	AccessLogWarn  AccessLogLevel = "warn"
	AccessLogOff   AccessLogLevel = "off" // no access lines
)
