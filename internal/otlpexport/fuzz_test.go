package otlpexport

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRetryAfter: a collector's Retry-After header is untrusted; the wait
// it yields must stay within [0, 1 minute].
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "1", "120", "-5", "99999999999999999999", "9223372036854775807",
		"Wed, 21 Oct 2099 07:28:00 GMT", "Mon, 01 Jan 2001 00:00:00 GMT", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v)
		if d < 0 || d > time.Minute {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzSnippet: an error body is untrusted; what reaches an error message is
// short, printable ASCII.
func FuzzSnippet(f *testing.F) {
	f.Add([]byte("malformed request"))
	f.Add([]byte{0x08, 0x03, 0x12, 0x05, 'h', 'e', 'l', 'l', 'o', 0xff, '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := snippet(b)
		if len(s) > 200 || !utf8.ValidString(s) {
			t.Fatalf("snippet = %q", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				t.Fatalf("unprintable byte %#x in %q", s[i], s)
			}
		}
	})
}

// FuzzResolve: endpoint, protocol, INSECURE and header values come from the
// deployment's environment; any combination resolves or fails with an
// error, never panics, and a resolved HTTP endpoint has a host and an
// absolute path, a gRPC one a dial target.
func FuzzResolve(f *testing.F) {
	for _, s := range [][4]string{
		{"http://h:4318/base/", "http/protobuf", "", "api-key=a%20b,x=1"},
		{"h:4317", "grpc", "true", "k=v"},
		{"https://[::1]:4317/p?q#f", "", "TRUE", ",,=,%zz"},
		{"dns:///c:4317", "grpc", "false", ""},
		{"localhost:4318/x", "http/json", "yes", "bad key=1"},
		{"http://", "http", "", ""},
		{"://", "thrift", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], true)
		f.Add(s[0], s[1], s[2], s[3], false)
	}
	f.Fuzz(func(t *testing.T, endpoint, protocol, insecure, headers string, generic bool) {
		name := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
		if generic {
			name = "OTEL_EXPORTER_OTLP_ENDPOINT"
		}
		vars := map[string]string{name: endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
			"OTEL_EXPORTER_OTLP_INSECURE": insecure, "OTEL_EXPORTER_OTLP_HEADERS": headers}
		s, err := resolve(Options{Getenv: func(k string) string { return vars[k] }, Report: func(error) {}})
		if err != nil {
			return
		}
		switch s.protocol {
		case "grpc":
			if s.target == "" {
				t.Fatalf("no gRPC target for %q", endpoint)
			}
		case "http/protobuf":
			if s.endpoint.Host == "" || !strings.HasPrefix(s.endpoint.Path, "/") {
				t.Fatalf("endpoint %q resolved to %q", endpoint, s.endpoint)
			}
			if (s.tls != nil) != (s.endpoint.Scheme == "https") {
				t.Fatalf("TLS %v for %q", s.tls != nil, s.endpoint)
			}
		default:
			t.Fatalf("protocol %q", s.protocol)
		}
		for k := range s.headers {
			if !validHeaderName(k) {
				t.Fatalf("header name %q", k)
			}
		}
	})
}
