// Package emfspec holds the CloudWatch EMF facts that the metrics package,
// the root package's configuration checks and the EMF validator share: the
// line budget, the property that carries an OpenTelemetry scope, the agent
// endpoint syntax and the namespace rules. None of it is user API.
package emfspec

import (
	"fmt"
	"net/url"
	"strings"
)

// MaxLine is the budget of one EMF line, newline included: every line is
// shorter than 16 KiB, the size at which some log drivers split lines (and a
// split line is invalid JSON, so its metrics would vanish).
const MaxLine = 16 * 1024

// PropScope is the property carrying the instrumentation scope name of
// metrics exported from OpenTelemetry (a property, not a dimension, so it
// does not multiply metrics).
const PropScope = "otel_scope"

// maxNamespace is CloudWatch's limit on a namespace, in bytes.
const maxNamespace = 255

// ParseAgentEndpoint checks an AWS_EMF_AGENT_ENDPOINT value
// ("tcp://host:port" or "udp://host:port") and returns network and address.
func ParseAgentEndpoint(endpoint string) (network, addr string, err error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", "", fmt.Errorf("metrics: agent endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "tcp" && u.Scheme != "udp" {
		return "", "", fmt.Errorf("metrics: agent endpoint %q: scheme must be tcp or udp", endpoint)
	}
	if u.Host == "" || u.Port() == "" {
		return "", "", fmt.Errorf("metrics: agent endpoint %q: want %s://host:port", endpoint, u.Scheme)
	}
	return u.Scheme, u.Host, nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// SanitizeNamespace returns ns made valid for CloudWatch: characters outside
// [A-Za-z0-9._#:/ -] become '_', at most 255 bytes, no leading ':' and no
// reserved "AWS/" prefix ("_" is prepended). A blank ns becomes fallback
// (or "o11y" when fallback is blank too). changed reports a rewrite.
func SanitizeNamespace(ns, fallback string) (out string, changed bool) {
	if blank(ns) {
		if blank(fallback) {
			return "o11y", ns != ""
		}
		out, _ = SanitizeNamespace(fallback, "")
		return out, ns != ""
	}
	b := []byte(ns)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._#:/ -", c) >= 0) {
			b[i] = '_'
			changed = true
		}
	}
	if b[0] == ':' {
		b[0] = '_'
		changed = true
	}
	if len(b) >= 4 && strings.EqualFold(string(b[:4]), "AWS/") {
		b = append([]byte{'_'}, b...)
		changed = true
	}
	if len(b) > maxNamespace {
		b = b[:maxNamespace]
		changed = true
	}
	return string(b), changed
}
