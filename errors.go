package o11y

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"

	"github.com/o11y-go/o11y/internal/configerr"
	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/report"
)

// ConfigError is one unusable configuration value, reported once through
// Config.ErrorHandler (and included in Start's error) together with the
// fallback the SDK uses instead. Its message always reads
//
//	o11y: config: NAME="value": problem; using fallback
//
// where NAME is the environment variable, or Config.<field> for a value set
// in code. Secret values (OTLP headers) are shown as [REDACTED].
type ConfigError = configerr.Error

// componentError is every other report: "o11y: <component>: <message>",
// the sub-package's own prefix ("xrayudp: ") dropped so it is not doubled.
type componentError struct {
	component string
	err       error
}

func (e *componentError) Error() string {
	return "o11y: " + e.component + ": " + trimPackagePrefix(e.err.Error())
}

func (e *componentError) Unwrap() error { return e.err }

// packagePrefixes are the prefixes the SDK's packages put on their errors.
var packagePrefixes = []string{"o11y: ", "tracing: ", "xrayudp: ", "xraysampling: ", "awsresource: ",
	"otlpexport: ", "spanbatch: ", "metrics: ", "logging: "}

func trimPackagePrefix(msg string) string {
	for _, p := range packagePrefixes {
		if strings.HasPrefix(msg, p) {
			return msg[len(p):]
		}
	}
	return msg
}

// wrapReport gives err the one report format, unless it has it already.
func wrapReport(component string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	var comp *componentError
	if errors.As(err, &comp) {
		return err
	}
	return &componentError{component: component, err: err}
}

// stderrHandler is the default ErrorHandler: one JSON line on stderr, so that
// stdout keeps carrying only the application's logs and EMF documents:
//
//	{"time":"…","level":"WARN","logger":"o11y","msg":"o11y: config: …","variable":"…","value":"…","fallback":"…"}
//	{"time":"…","level":"WARN","logger":"o11y","msg":"o11y: xray: …","component":"xray"}
func stderrHandler(err error) {
	_, _ = os.Stderr.Write(appendReportLine(make([]byte, 0, 256), time.Now(), err))
}

func appendReportLine(b []byte, now time.Time, err error) []byte {
	b = append(b, `{"time":`...)
	b = jsonenc.AppendString(b, now.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"level":"WARN","logger":"o11y","msg":`...)
	b = jsonenc.AppendStringTrunc(b, err.Error(), 4096, "…")
	var ce *ConfigError
	var comp *componentError
	switch {
	case errors.As(err, &ce):
		b = append(b, `,"variable":`...)
		b = jsonenc.AppendString(b, ce.Name)
		b = append(b, `,"value":`...)
		b = jsonenc.AppendString(b, ce.ShownValue())
		b = append(b, `,"fallback":`...)
		b = jsonenc.AppendString(b, ce.Fallback)
	case errors.As(err, &comp):
		b = append(b, `,"component":`...)
		b = jsonenc.AppendString(b, comp.component)
	}
	return append(b, "}\n"...)
}

// reportError sends err through the SDK's rate-limited reporter in the one
// report format.
func (s *SDK) reportError(key string, err error) { s.reporter.Report(key, wrapReport(key, err)) }

// configKey is the reporter key of a configuration problem: one report per
// variable and problem.
func configKey(e *ConfigError) string { return "config:" + e.Name + ":" + e.Problem }

// errorHandler returns a func(error) for a sub-package. Sub-packages already
// rate-limit per kind of problem; the reporter keys on the component and the
// message (capped) so distinct problems are not hidden behind each other.
// A *ConfigError (the OTLP exporter's and batch processor's bad variables)
// keeps its format and is keyed on its variable, so it is reported once.
func (s *SDK) errorHandler(component string) func(error) {
	return func(err error) { reportTo(s.reporter, component, err) }
}

func reportTo(r *report.Reporter, component string, err error) {
	var ce *ConfigError
	if errors.As(err, &ce) {
		r.Report(configKey(ce), err)
		return
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	r.Report(component+":"+msg, wrapReport(component, err))
}

// OpenTelemetry's own problems (otel.Handle, and its internal logr logger,
// which by default prints plain-text lines on stderr) are routed to the
// reporter of the SDK installed last by Start without DisableGlobals, so they
// reach Config.ErrorHandler in the same format, rate-limited.
var (
	otelRoute atomic.Pointer[report.Reporter]
	// quietEnvErrors is raised while Start builds the providers: the OTel
	// SDK reads OTEL_TRACES_SAMPLER (complaining about names it does not
	// know, such as "xray", although our sampler replaces its choice) and
	// OTEL_RESOURCE_ATTRIBUTES itself there. Start validates both variables
	// and reports each problem once itself.
	quietEnvErrors atomic.Int32
)

func installOTelRoute(r *report.Reporter) {
	otelRoute.Store(r)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(handleOTelError))
	otel.SetLogger(logr.New(otelLogSink{}))
}

func handleOTelError(err error) {
	if err == nil {
		return
	}
	if quietEnvErrors.Load() > 0 && isSDKEnvError(err) {
		return
	}
	component := "otel"
	for _, p := range packagePrefixes[1:] {
		if strings.HasPrefix(err.Error(), p) {
			component = strings.TrimSuffix(p, ": ")
			break
		}
	}
	if r := otelRoute.Load(); r != nil {
		reportTo(r, component, err)
		return
	}
	stderrHandler(wrapReport(component, err))
}

// isSDKEnvError recognises the errors of the OTel SDK's own parsing of
// OTEL_TRACES_SAMPLER(_ARG) (sdk/trace/sampler_env.go) and
// OTEL_RESOURCE_ATTRIBUTES (sdk/resource/env.go). Their types are
// unexported, so mostly by message.
func isSDKEnvError(err error) bool {
	var esc url.EscapeError
	if errors.As(err, &esc) {
		return true
	}
	m := err.Error()
	for _, p := range []string{"unsupported sampler: ", "parsing sampler argument: ", "invalid trace ID ratio: "} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	// resource.Detect wraps these ("error detecting resource: partial
	// resource: missing value: [bad]").
	return strings.Contains(m, "partial resource") || strings.Contains(m, "missing value: [")
}

// otelLogSink is OpenTelemetry's internal logger: errors and warnings (the
// levels its default logger prints, plus V(1) warnings) become reports.
type otelLogSink struct{ values []any }

func (otelLogSink) Init(logr.RuntimeInfo)  {}
func (otelLogSink) Enabled(level int) bool { return level <= 1 }
func (s otelLogSink) Info(level int, msg string, kv ...any) {
	handleOTelError(errors.New(msg + formatKV(append(s.values[:len(s.values):len(s.values)], kv...))))
}
func (s otelLogSink) Error(err error, msg string, kv ...any) {
	text := msg + formatKV(append(s.values[:len(s.values):len(s.values)], kv...))
	if err != nil {
		text += ": " + err.Error()
	}
	handleOTelError(errors.New(text))
}
func (s otelLogSink) WithValues(kv ...any) logr.LogSink {
	return otelLogSink{values: append(s.values[:len(s.values):len(s.values)], kv...)}
}
func (s otelLogSink) WithName(string) logr.LogSink { return s }

func formatKV(kv []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	return b.String()
}
