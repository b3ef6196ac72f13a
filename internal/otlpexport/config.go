package otlpexport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Options configures an Exporter. A field left at its zero value falls back
// to the standard OTEL_EXPORTER_OTLP_* variables, read through Getenv (the
// OTEL_EXPORTER_OTLP_TRACES_* form wins over the generic one), and then to
// the specification's default. A field that is set wins over the
// environment.
type Options struct {
	// Endpoint is the traces endpoint, with the meaning of
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: for HTTP/protobuf the URL is used
	// as is (no path means "/"); for gRPC the path is ignored. A scheme of
	// https means TLS, http plaintext; without a scheme, TLS unless
	// Insecure (or OTEL_EXPORTER_OTLP_INSECURE=true). Empty: the
	// TRACES_ENDPOINT variable, else OTEL_EXPORTER_OTLP_ENDPOINT as a base
	// URL ("/v1/traces" appended for HTTP), else http://localhost:4317
	// (gRPC) or http://localhost:4318/v1/traces (HTTP).
	Endpoint string
	// Protocol is "grpc" (default) or "http/protobuf". "http/json" is
	// reported and sent as http/protobuf.
	Protocol string
	// Headers are sent with every export. Non-nil replaces
	// OTEL_EXPORTER_OTLP_HEADERS.
	Headers map[string]string
	// Compression is "gzip" or "none" (OTEL_EXPORTER_OTLP_COMPRESSION).
	Compression string
	// Timeout bounds one export, retries included
	// (OTEL_EXPORTER_OTLP_TIMEOUT, default 10s).
	Timeout time.Duration
	// Insecure selects plaintext for an endpoint given without a scheme
	// (OTEL_EXPORTER_OTLP_INSECURE). An http:// or https:// scheme decides
	// by itself, as the specification says.
	Insecure bool
	// TLSConfig is used for TLS connections (trusted roots, client
	// certificates). Non-nil replaces OTEL_EXPORTER_OTLP_CERTIFICATE,
	// _CLIENT_CERTIFICATE and _CLIENT_KEY; it is cloned, and ServerName is
	// set from the endpoint when empty.
	TLSConfig *tls.Config
	// Getenv reads the OTEL_EXPORTER_OTLP_* variables; nil means os.Getenv.
	Getenv func(string) string
	// Report receives configuration problems that do not stop the exporter
	// (an unparsable header entry, an unknown compression, an endpoint
	// without a scheme for HTTP), the first failed attempt of an export
	// that will be retried (so an unreachable collector is known before
	// the retries run out), and strings that were not valid UTF-8 (once
	// per minute). The caller rate-limits the rest; nil drops them.
	Report func(error)
}

// settings is Options resolved against the environment.
type settings struct {
	protocol    string
	endpoint    *url.URL // HTTP: the URL posted to; gRPC: for messages
	target      string   // gRPC dial target
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

// TracesPath is appended to OTEL_EXPORTER_OTLP_ENDPOINT for OTLP/HTTP.
const TracesPath = "/v1/traces"

const userAgent = "o11y-go-otlp/1"

// envReader reads OTEL_EXPORTER_OTLP_TRACES_<name>, else
// OTEL_EXPORTER_OTLP_<name>, and says which one it used.
type envReader func(string) string

func (getenv envReader) get(name string) (value, variable string) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_" + name, "OTEL_EXPORTER_OTLP_" + name} {
		if s := strings.TrimSpace(getenv(v)); s != "" {
			return s, v
		}
	}
	return "", "OTEL_EXPORTER_OTLP_" + name
}

func resolve(o Options) (*settings, error) {
	var env envReader = o.Getenv
	if env == nil {
		env = os.Getenv
	}
	report := o.Report
	if report == nil {
		report = func(error) {}
	}
	s := &settings{timeout: DefaultTimeout, userAgent: userAgent, maxAttempts: 5, report: report}

	proto, protoVar := strings.TrimSpace(o.Protocol), "OTLP protocol"
	if proto == "" {
		proto, protoVar = env.get("PROTOCOL")
	}
	switch strings.ToLower(proto) {
	case "", "grpc":
		s.protocol = "grpc"
	case "http/protobuf", "http":
		s.protocol = "http/protobuf"
	case "http/json":
		s.protocol = "http/protobuf"
		report(fmt.Errorf("otlpexport: %s=http/json is not supported; sending http/protobuf (collectors accept both on the same port)", protoVar))
	default:
		return nil, fmt.Errorf("otlpexport: %s=%q: unknown OTLP protocol (want grpc or http/protobuf)", protoVar, proto)
	}

	insecure := o.Insecure
	if !insecure {
		if v, name := env.get("INSECURE"); v != "" {
			switch strings.ToLower(v) {
			case "true":
				insecure = true
			case "false":
			default:
				report(fmt.Errorf("otlpexport: %s=%q is not true or false; using false", name, v))
			}
		}
	}

	if err := s.resolveEndpoint(o.Endpoint, env, insecure); err != nil {
		return nil, err
	}

	if o.Headers != nil {
		s.headers = make(map[string]string, len(o.Headers))
		for k, v := range o.Headers {
			if !validHeaderName(k) {
				report(fmt.Errorf("otlpexport: skipping OTLP header with invalid name %q", k))
				continue
			}
			s.headers[strings.ToLower(k)] = v
		}
	} else if h, name := env.get("HEADERS"); h != "" {
		s.headers = parseHeaders(h, name, report)
	}

	comp, compVar := strings.TrimSpace(o.Compression), "OTLP compression"
	if comp == "" {
		comp, compVar = env.get("COMPRESSION")
	}
	switch c := strings.ToLower(comp); c {
	case "", "none":
	case "gzip":
		s.gzip = true
	default:
		report(fmt.Errorf("otlpexport: %s=%q is not supported (gzip or none); sending uncompressed", compVar, comp))
	}

	if o.Timeout > 0 {
		s.timeout = o.Timeout
	} else if t, name := env.get("TIMEOUT"); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms <= 0 || ms > int64(24*time.Hour/time.Millisecond) {
			report(fmt.Errorf("otlpexport: %s=%q is not a positive number of milliseconds; using %s", name, t, DefaultTimeout))
		} else {
			s.timeout = time.Duration(ms) * time.Millisecond
		}
	}

	if s.tls != nil {
		if err := s.resolveTLS(o.TLSConfig, env); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// resolveEndpoint applies the specification's endpoint rules. It sets
// s.endpoint, s.target and, for TLS, s.tls (filled in by resolveTLS).
func (s *settings) resolveEndpoint(code string, env envReader, insecure bool) error {
	raw, name, base := strings.TrimSpace(code), "OTLP endpoint", false
	if raw == "" {
		if raw, name = env.get("ENDPOINT"); raw != "" {
			base = name == "OTEL_EXPORTER_OTLP_ENDPOINT"
		}
	}
	if raw == "" {
		if s.protocol == "grpc" {
			raw = "http://localhost:4317"
		} else {
			raw = "http://localhost:4318" + TracesPath
		}
	}

	scheme, rest, hasScheme := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	secure := false
	switch {
	case hasScheme && scheme == "https":
		secure = true
		if insecure {
			s.report(fmt.Errorf("otlpexport: OTEL_EXPORTER_OTLP_INSECURE=true is ignored for %s=%q: an https:// scheme means TLS", name, raw))
		}
	case hasScheme && scheme == "http":
	case hasScheme && s.protocol == "grpc" && scheme == "dns":
		// gRPC's dns:[//authority]/host:port target form: the host is
		// resolved like any other (the authority, a DNS server, is not
		// supported and is ignored).
		_, hostport, _ := strings.Cut(rest, "/") // "[authority]/host:port"
		if hostport == "" || strings.Contains(hostport, "/") {
			return fmt.Errorf("otlpexport: %s=%q: want dns:///host:port", name, raw)
		}
		rest = hostport
		secure = !insecure
	case hasScheme:
		return fmt.Errorf("otlpexport: %s=%q: scheme must be http or https", name, raw)
	default:
		// No scheme: TLS unless INSECURE, the specification's rule for
		// gRPC (OTLP/HTTP requires a scheme; the same rule is the safe
		// reading there).
		rest = raw
		secure = !insecure
		if s.protocol != "grpc" {
			s.report(fmt.Errorf("otlpexport: %s=%q has no scheme (OTLP/HTTP wants http:// or https://); using %s", name, raw, map[bool]string{true: "https", false: "http"}[secure]))
		}
	}
	u, err := url.Parse(map[bool]string{true: "https", false: "http"}[secure] + "://" + rest)
	if err != nil {
		return fmt.Errorf("otlpexport: %s=%q: %w", name, raw, err)
	}
	if u.Host == "" {
		return fmt.Errorf("otlpexport: %s=%q has no host", name, raw)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	if s.protocol == "grpc" {
		// The path is ignored for gRPC; without a port, gRPC's own
		// default (443) applies, as in the upstream exporter.
		s.target = u.Host
		u.Path, u.RawPath = "", ""
	} else {
		switch {
		case base:
			// OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: the signal
			// path is appended (one slash between them).
			u.Path = path.Join("/", u.Path, TracesPath)
			u.RawPath = ""
		case u.Path == "":
			u.Path = "/" // a signal URL is used as is; no path means the root
		}
	}
	s.endpoint = u
	if secure {
		s.tls = &tls.Config{}
	}
	return nil
}

// resolveTLS fills s.tls from the code's config or the CERTIFICATE,
// CLIENT_CERTIFICATE and CLIENT_KEY variables.
func (s *settings) resolveTLS(code *tls.Config, env envReader) error {
	var cfg *tls.Config
	if code != nil {
		cfg = code.Clone()
	} else {
		cfg = &tls.Config{}
		if f, name := env.get("CERTIFICATE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("otlpexport: %s: %w", name, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("otlpexport: %s %s holds no PEM certificate", name, f)
			}
			cfg.RootCAs = pool
		}
		// The certificate and key are read as a pair: the TRACES_ pair,
		// else the generic one (never one file from each).
		pair := func(prefix string) (string, string) {
			return strings.TrimSpace(env(prefix + "CLIENT_CERTIFICATE")), strings.TrimSpace(env(prefix + "CLIENT_KEY"))
		}
		certFile, keyFile := pair("OTEL_EXPORTER_OTLP_TRACES_")
		if certFile == "" || keyFile == "" {
			if c, k := pair("OTEL_EXPORTER_OTLP_"); c != "" && k != "" || certFile == "" && keyFile == "" {
				certFile, keyFile = c, k
			}
		}
		switch {
		case certFile != "" && keyFile != "":
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("otlpexport: client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		case certFile != "" || keyFile != "":
			return errors.New("otlpexport: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY must be set together")
		}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.ServerName == "" && s.endpoint.Host != "" {
		cfg.ServerName = s.endpoint.Hostname()
	}
	s.tls = cfg
	return nil
}

// parseHeaders reads "key1=value1,key2=value2" with percent-encoded values
// (the OTEL_EXPORTER_OTLP_HEADERS format). Bad entries are skipped and
// reported without their value, which is often a credential.
func parseHeaders(s, variable string, report func(error)) map[string]string {
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
			v, err = url.PathUnescape(v)
			v = strings.TrimSpace(v)
			ok = err == nil
		}
		if !ok || !validHeaderName(k) {
			report(fmt.Errorf("otlpexport: skipping malformed %s entry for key %q", variable, k))
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
