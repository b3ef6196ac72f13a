package otlpexport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/o11y-go/o11y/internal/configerr"
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
	// (gRPC) or http://localhost:4318/v1/traces (HTTP). An unusable
	// endpoint is reported and the default is used.
	Endpoint string
	// Protocol is "grpc" (default) or "http/protobuf". "http/json" is
	// reported and sent as http/protobuf; an unknown one is reported and
	// gRPC is used.
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
	// FieldPrefix names a value set in code in reports: FieldPrefix +
	// "Endpoint" ("Config.Traces.OTLP" gives Config.Traces.OTLPEndpoint).
	// Empty means "otlpexport.Options.".
	FieldPrefix string
	// Getenv reads the OTEL_EXPORTER_OTLP_* variables; nil means os.Getenv.
	Getenv func(string) string
	// Report receives every unusable configuration value, as a
	// *configerr.Error naming the variable (or FieldPrefix+field), the
	// value (headers redacted) and the fallback in effect, except unusable
	// TLS files, which New returns (Fallback NoExport). It also receives the first failed attempt of an export
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
	prefix := o.FieldPrefix
	if prefix == "" {
		prefix = "otlpexport.Options."
	}
	field := func(name string) string { return prefix + name }
	bad := func(name, value, problem, fallback string) {
		report(configerr.New(name, value, problem, fallback))
	}
	s := &settings{timeout: DefaultTimeout, userAgent: userAgent, maxAttempts: 5, report: report}

	proto, protoVar := strings.TrimSpace(o.Protocol), field("Protocol")
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
		bad(protoVar, proto, "not supported (collectors accept http/protobuf on the same port)", "http/protobuf")
	default:
		s.protocol = "grpc"
		bad(protoVar, proto, "unknown OTLP protocol (want grpc or http/protobuf)", "grpc")
	}

	insecure, insecureVar := o.Insecure, field("Insecure")
	if !insecure {
		if v, name := env.get("INSECURE"); v != "" {
			switch strings.ToLower(v) {
			case "true":
				insecure, insecureVar = true, name
			case "false":
			default:
				bad(name, v, "not a boolean (want true or false)", "false")
			}
		}
	}

	s.resolveEndpoint(o.Endpoint, field("Endpoint"), env, insecure, insecureVar)

	if o.Headers != nil {
		s.headers = make(map[string]string, len(o.Headers))
		var invalid []string
		for k, v := range o.Headers {
			if !validHeaderName(k) {
				invalid = append(invalid, strconv.Quote(k))
				continue
			}
			s.headers[strings.ToLower(k)] = v
		}
		if len(invalid) > 0 {
			sort.Strings(invalid)
			report(&configerr.Error{Name: field("Headers"), Secret: true,
				Problem: "invalid header names " + strings.Join(invalid, ", "), Fallback: "the other headers"})
		}
	} else if h, name := env.get("HEADERS"); h != "" {
		s.headers = parseHeaders(h, name, report)
	}

	comp, compVar := strings.TrimSpace(o.Compression), field("Compression")
	if comp == "" {
		comp, compVar = env.get("COMPRESSION")
	}
	switch c := strings.ToLower(comp); c {
	case "", "none":
	case "gzip":
		s.gzip = true
	default:
		bad(compVar, comp, "unknown compression (want gzip or none)", "none")
	}

	if o.Timeout > 0 {
		s.timeout = o.Timeout
	} else if t, name := env.get("TIMEOUT"); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms <= 0 || ms > int64(24*time.Hour/time.Millisecond) {
			bad(name, t, "not a positive number of milliseconds (at most 24h)", msText(DefaultTimeout))
		} else {
			s.timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if o.Timeout < 0 {
		bad(field("Timeout"), o.Timeout.String(), "negative", msText(s.timeout))
	}

	if s.tls != nil {
		if err := s.resolveTLS(o.TLSConfig, env); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// msText is d the way the OTEL_* variables write it: whole milliseconds.
func msText(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// defaultEndpoint is the specification's default for the protocol.
func (s *settings) defaultEndpoint() string {
	if s.protocol == "grpc" {
		return "http://localhost:4317"
	}
	return "http://localhost:4318" + TracesPath
}

// resolveEndpoint applies the specification's endpoint rules. It sets
// s.endpoint, s.target and, for TLS, s.tls (filled in by resolveTLS). An
// unusable endpoint is reported and the default is used: OTLP stays on.
func (s *settings) resolveEndpoint(code, codeName string, env envReader, insecure bool, insecureVar string) {
	raw, name, base := strings.TrimSpace(code), codeName, false
	if raw == "" {
		if raw, name = env.get("ENDPOINT"); raw != "" {
			base = name == "OTEL_EXPORTER_OTLP_ENDPOINT"
		}
	}
	if raw != "" {
		problem := s.setEndpoint(raw, name, base, insecure, insecureVar)
		if problem == "" {
			return
		}
		s.report(configerr.New(name, raw, problem, s.defaultEndpoint()))
	}
	s.setEndpoint(s.defaultEndpoint(), "", false, insecure, insecureVar)
}

// setEndpoint resolves raw, or says what makes it unusable.
func (s *settings) setEndpoint(raw, name string, base, insecure bool, insecureVar string) (problem string) {
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	secure := false
	switch {
	case hasScheme && scheme == "https":
		secure = true
	case hasScheme && scheme == "http":
	case hasScheme && s.protocol == "grpc" && scheme == "dns":
		// gRPC's dns:[//authority]/host:port target form: the host is
		// resolved like any other (the authority, a DNS server, is not
		// supported and is ignored).
		_, hostport, _ := strings.Cut(rest, "/") // "[authority]/host:port"
		if hostport == "" || strings.Contains(hostport, "/") {
			return "want dns:///host:port"
		}
		rest = hostport
		secure = !insecure
	case hasScheme && s.protocol == "grpc":
		return "scheme must be http or https (or dns:///host:port)"
	case hasScheme:
		return "scheme must be http or https"
	default:
		// No scheme: TLS unless INSECURE, the specification's rule for
		// gRPC (OTLP/HTTP requires a scheme; the same rule is the safe
		// reading there).
		rest = raw
		secure = !insecure
	}
	u, err := url.Parse(map[bool]string{true: "https", false: "http"}[secure] + "://" + rest)
	if err != nil {
		return "not a URL"
	}
	if u.Hostname() == "" {
		return "no host"
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
	switch {
	case hasScheme && scheme == "https" && insecure:
		s.report(configerr.New(insecureVar, "true", "ignored: "+name+" is an https:// endpoint", "TLS"))
	case !hasScheme && s.protocol != "grpc":
		s.report(configerr.New(name, raw, "no scheme (OTLP/HTTP wants http:// or https://)", u.String()))
	}
	return ""
}

// NoExport is the Fallback of a *configerr.Error that New returns: TLS
// material that was asked for (a CERTIFICATE, a client certificate and
// key) cannot be used, and no exporter is built.
const NoExport = "no OTLP export"

// resolveTLS fills s.tls from the code's config or the CERTIFICATE,
// CLIENT_CERTIFICATE and CLIENT_KEY variables. TLS material that was asked
// for and cannot be used is a deployment error: unlike the upstream
// exporters, which log it and carry on with the system roots or without a
// client certificate, it returns a *configerr.Error and New fails (a
// narrower trust set is never silently widened).
func (s *settings) resolveTLS(code *tls.Config, env envReader) error {
	var cfg *tls.Config
	if code != nil {
		cfg = code.Clone()
	} else {
		cfg = &tls.Config{}
		if f, name := env.get("CERTIFICATE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return configerr.New(name, f, "cannot read the file: "+pathErrText(err), NoExport)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return configerr.New(name, f, "holds no PEM certificate", NoExport)
			}
			cfg.RootCAs = pool
		}
		// The certificate and key are read as a pair: the TRACES_ pair,
		// else the generic one (never one file from each).
		pair := func(prefix string) (string, string) {
			return strings.TrimSpace(env(prefix + "CLIENT_CERTIFICATE")), strings.TrimSpace(env(prefix + "CLIENT_KEY"))
		}
		prefix := "OTEL_EXPORTER_OTLP_TRACES_"
		certFile, keyFile := pair(prefix)
		if certFile == "" || keyFile == "" {
			if c, k := pair("OTEL_EXPORTER_OTLP_"); c != "" && k != "" || certFile == "" && keyFile == "" {
				certFile, keyFile, prefix = c, k, "OTEL_EXPORTER_OTLP_"
			}
		}
		switch {
		case certFile != "" && keyFile != "":
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return configerr.New(prefix+"CLIENT_CERTIFICATE", certFile,
					"cannot load it with "+prefix+"CLIENT_KEY="+strconv.Quote(keyFile)+": "+pathErrText(err), NoExport)
			}
			cfg.Certificates = []tls.Certificate{cert}
		case certFile != "":
			return configerr.New(prefix+"CLIENT_CERTIFICATE", certFile, "set without "+prefix+"CLIENT_KEY", NoExport)
		case keyFile != "":
			return configerr.New(prefix+"CLIENT_KEY", keyFile, "set without "+prefix+"CLIENT_CERTIFICATE", NoExport)
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

// pathErrText is err without the file name a *fs.PathError repeats.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// parseHeaders reads "key1=value1,key2=value2" with percent-encoded values
// (the OTEL_EXPORTER_OTLP_HEADERS format). Bad entries are skipped and
// reported once, by position: the value is often a credential, and an entry
// without "=" may be one whole.
func parseHeaders(s, variable string, report func(error)) map[string]string {
	out := make(map[string]string)
	var badAt []string
	entries := strings.Split(s, ",")
	for i, entry := range entries {
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
			badAt = append(badAt, strconv.Itoa(i+1))
			continue
		}
		out[strings.ToLower(k)] = v
	}
	if len(badAt) > 0 {
		report(&configerr.Error{Name: variable, Value: s, Secret: true,
			Problem: fmt.Sprintf("malformed entries %s of %d (want key=value, values percent-encoded)",
				strings.Join(badAt, ", "), len(entries)),
			Fallback: "the other entries"})
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
