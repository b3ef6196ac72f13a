package o11y

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/o11y-go/o11y/internal/configerr"
	"github.com/o11y-go/o11y/metrics"
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
		c.Disable = b
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
	c.Platform = Platform(strings.ToLower(get("O11Y_PLATFORM")))
	if b, ok := boolVar("O11Y_RESOURCE_DETECTION_EC2", false); ok {
		c.DetectEC2 = b
	}

	// Traces.
	t := &c.Traces
	t.Exporter = Exporter(strings.ToLower(get("OTEL_TRACES_EXPORTER")))
	t.DaemonAddress = get("AWS_XRAY_DAEMON_ADDRESS")
	// Only the signal URL: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL the
	// exporter completes itself (internal/otlpexport).
	t.OTLPEndpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	t.OTLPProtocol = OTLPProtocol(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if t.OTLPProtocol == "" {
		t.OTLPProtocol = OTLPProtocol(get("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	t.Sampler = SamplerName(strings.ToLower(get("OTEL_TRACES_SAMPLER")))
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
		t.Exporter = ExporterNone
	}
	if badQueue != "" {
		// The fallback depends on the exporter, known only now.
		warn("O11Y_TRACES_QUEUE_SIZE", badQueue, "not a positive integer", queueFallback(t, get))
	}

	// Metrics.
	m := &c.Metrics
	if b, ok := boolVar("O11Y_METRICS_DISABLED", false); ok {
		m.Disable = b
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
	l.AccessLog = AccessLogLevel(strings.ToLower(get("O11Y_ACCESS_LOG")))
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
