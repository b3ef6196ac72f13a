// Package configerr is the one form every unusable configuration value is
// reported in, whichever package notices it: the root's ConfigFromEnv and
// Start, and the OTLP exporter and batch processor for their own
// OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables. The root re-exports the type
// as o11y.ConfigError, and its default ErrorHandler writes the fields as JSON.
package configerr

import "strconv"

// maxValue caps the value quoted in a report: values are configuration, not
// request input, but a long one must not flood stderr.
const maxValue = 128

// Error is one unusable configuration value and what is used instead.
type Error struct {
	// Name is the environment variable (AWS_XRAY_DAEMON_ADDRESS) or, for a
	// value set in code, the Config field (Config.Traces.DaemonAddress).
	Name string
	// Value is the value as given. It is not printed when Secret is set.
	Value string
	// Secret keeps Value out of the message (headers, keys).
	Secret bool
	// Problem says what is wrong with the value.
	Problem string
	// Fallback is what is used instead, in words a user can check
	// ("127.0.0.1:2000", "60s", "the X-Ray default rule").
	Fallback string
}

// New returns an *Error.
func New(name, value, problem, fallback string) *Error {
	return &Error{Name: name, Value: value, Problem: problem, Fallback: fallback}
}

// Error is the one message format:
//
//	o11y: config: NAME="value": problem; using fallback
func (e *Error) Error() string {
	b := make([]byte, 0, 64+len(e.Name)+len(e.Problem)+len(e.Fallback))
	b = append(b, "o11y: config: "...)
	b = append(b, e.Name...)
	b = append(b, '=')
	b = strconv.AppendQuote(b, e.ShownValue())
	b = append(b, ": "...)
	b = append(b, e.Problem...)
	if e.Fallback != "" {
		b = append(b, "; using "...)
		b = append(b, e.Fallback...)
	}
	return string(b)
}

// ShownValue is Value as reports show it: "[REDACTED]" when Secret, cut to
// 128 bytes otherwise.
func (e *Error) ShownValue() string {
	if e.Secret {
		return "[REDACTED]"
	}
	if len(e.Value) > maxValue {
		return e.Value[:maxValue] + "…"
	}
	return e.Value
}
