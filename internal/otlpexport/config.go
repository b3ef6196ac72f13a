package otlpexport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configures an Exporter. Everything not set here comes from the
// standard OTEL_EXPORTER_OTLP_* variables, read through Getenv, with the
// traces-specific variable taking precedence over the generic one.
type Options struct {
	// Endpoint is the collector URL. For gRPC its scheme selects TLS
	// ("https") or plaintext ("http") and any path is ignored; for
	// HTTP/protobuf it is the full URL requests are posted to. Without a
	// scheme, "http://" is assumed. Default: http://localhost:4317 (gRPC),
	// http://localhost:4318/v1/traces (HTTP).
	Endpoint string
	// Protocol is "grpc" (default) or "http/protobuf".
	Protocol string
	// Getenv reads the OTEL_EXPORTER_OTLP_* variables; nil means os.Getenv.
	Getenv func(string) string
	// Report receives configuration problems that do not stop the exporter
	// (an unparsable header entry, an unknown compression), the first
	// failed attempt of an export that will be retried (so an unreachable
	// collector is known before the retries run out), and strings that
	// were not valid UTF-8 (once per minute). The caller rate-limits the
	// rest; nil drops them.
	Report func(error)
}

// settings is Options resolved against the environment.
type settings struct {
	protocol    string
	endpoint    *url.URL
	headers     map[string]string
	gzip        bool
	timeout     time.Duration
	tls         *tls.Config // nil: plaintext
	userAgent   string
	maxAttempts int
	report      func(error) // never nil
}

// DefaultTimeout bounds one export, retries included, when
// OTEL_EXPORTER_OTLP_TIMEOUT is not set (the specification's default).
const DefaultTimeout = 10 * time.Second

const userAgent = "o11y-go-otlp/1"

func resolve(o Options) (*settings, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(name string) string {
		if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_" + name)); v != "" {
			return v
		}
		return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_" + name))
	}
	report := o.Report
	if report == nil {
		report = func(error) {}
	}
	s := &settings{timeout: DefaultTimeout, userAgent: userAgent, maxAttempts: 5, report: report}

	switch p := strings.ToLower(strings.TrimSpace(o.Protocol)); p {
	case "", "grpc":
		s.protocol = "grpc"
	case "http/protobuf", "http":
		s.protocol = "http/protobuf"
	default:
		return nil, fmt.Errorf("otlpexport: unknown OTLP protocol %q (want grpc or http/protobuf)", o.Protocol)
	}

	ep := strings.TrimSpace(o.Endpoint)
	if ep == "" {
		if s.protocol == "grpc" {
			ep = "http://localhost:4317"
		} else {
			ep = "http://localhost:4318/v1/traces"
		}
	}
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return nil, fmt.Errorf("otlpexport: endpoint %q: %w", o.Endpoint, err)
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("otlpexport: endpoint %q: scheme must be http or https", o.Endpoint)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("otlpexport: endpoint %q has no host", o.Endpoint)
	}
	if s.protocol == "grpc" && u.Port() == "" {
		u.Host += ":4317"
	}
	if s.protocol == "http/protobuf" && (u.Path == "" || u.Path == "/") {
		u.Path = "/v1/traces"
	}
	s.endpoint = u

	if h := get("HEADERS"); h != "" {
		s.headers = parseHeaders(h, report)
	}
	switch c := strings.ToLower(get("COMPRESSION")); c {
	case "", "none":
	case "gzip":
		s.gzip = true
	default:
		report(fmt.Errorf("otlpexport: OTEL_EXPORTER_OTLP_COMPRESSION=%q is not supported (gzip or none); sending uncompressed", c))
	}
	if t := get("TIMEOUT"); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms <= 0 {
			report(fmt.Errorf("otlpexport: OTEL_EXPORTER_OTLP_TIMEOUT=%q is not a positive number of milliseconds; using %s", t, DefaultTimeout))
		} else {
			s.timeout = time.Duration(ms) * time.Millisecond
		}
	}

	if u.Scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		if f := get("CERTIFICATE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("otlpexport: OTEL_EXPORTER_OTLP_CERTIFICATE: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("otlpexport: OTEL_EXPORTER_OTLP_CERTIFICATE %s holds no PEM certificate", f)
			}
			cfg.RootCAs = pool
		}
		certFile, keyFile := get("CLIENT_CERTIFICATE"), get("CLIENT_KEY")
		switch {
		case certFile != "" && keyFile != "":
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return nil, fmt.Errorf("otlpexport: client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		case certFile != "" || keyFile != "":
			return nil, errors.New("otlpexport: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY must be set together")
		}
		s.tls = cfg
	}
	return s, nil
}

// parseHeaders reads "key1=value1,key2=value2" with percent-encoded values
// (the OTEL_EXPORTER_OTLP_HEADERS format). Bad entries are skipped and
// reported without their value, which is often a credential.
func parseHeaders(s string, report func(error)) map[string]string {
	out := make(map[string]string)
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if ok {
			var err error
			v, err = url.PathUnescape(strings.TrimSpace(v))
			ok = err == nil
		}
		if !ok || !validHeaderName(k) {
			report(fmt.Errorf("otlpexport: skipping malformed OTEL_EXPORTER_OTLP_HEADERS entry for key %q", k))
			continue
		}
		out[strings.ToLower(k)] = v
	}
	return out
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
