package otlpexport

// Conformance: the upstream otlptracegrpc/otlptracehttp exporters and ours,
// under the same OTEL_EXPORTER_OTLP_* environment (t.Setenv), export the
// same spans to one capture server (HTTP and gRPC on one listener,
// plaintext or TLS with a self-signed certificate on loopback). Every row
// either matches upstream or names the documented difference
// (docs/OTLP.md), and asserts what the specification asks of ours.

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// seen is one request as the capture server saw it.
type seen struct {
	transport string // "http" or "grpc"
	tls       bool
	clientTLS bool   // the client presented a certificate
	proto     string // HTTP/1.1, HTTP/2.0
	method    string
	path      string
	header    http.Header
	payload   *coltracepb.ExportTraceServiceRequest // nil if it did not decode
	rawType   string                                // HTTP Content-Type
	at        time.Time
}

// reply scripts the capture server's answer to the n-th request (1-based).
type reply struct {
	status     int    // HTTP status; 0 means 200
	retryAfter string // HTTP Retry-After
	code       codes.Code
	retryInfo  time.Duration // gRPC RetryInfo delay
	hang       bool          // answer only when the client gives up
}

type captureServer struct {
	coltracepb.UnimplementedTraceServiceServer
	addr   string // 127.0.0.1:port
	port   string
	tls    bool
	script func(n int) reply

	grpc *grpc.Server
	http *http.Server

	mu   sync.Mutex
	reqs []seen
}

// startCapture serves OTLP/HTTP and OTLP/gRPC on one loopback listener
// (HTTP/1.1, HTTP/2 over TLS, and prior-knowledge HTTP/2 cleartext, which
// is what gRPC clients speak to an http:// endpoint).
func startCapture(t *testing.T, cert *tls.Certificate, mtls bool, script func(int) reply) *captureServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &captureServer{addr: ln.Addr().String(), tls: cert != nil, script: script}
	_, c.port, _ = net.SplitHostPort(c.addr)
	c.grpc = grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(c.grpc, c)
	c.http = &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	c.http.Protocols = new(http.Protocols)
	c.http.Protocols.SetHTTP1(true)
	c.http.Protocols.SetHTTP2(true)
	c.http.Protocols.SetUnencryptedHTTP2(true)
	if cert != nil {
		c.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if mtls {
			c.http.TLSConfig.ClientAuth = tls.RequireAnyClientCert
		}
		go func() { _ = c.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = c.http.Serve(ln) }()
	}
	t.Cleanup(func() {
		_ = c.http.Close()
		c.grpc.Stop()
	})
	return c
}

func (c *captureServer) answer(n int) reply {
	if c.script == nil {
		return reply{}
	}
	return c.script(n)
}

func (c *captureServer) record(r *http.Request, transport string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, seen{
		transport: transport, tls: r.TLS != nil, clientTLS: r.TLS != nil && len(r.TLS.PeerCertificates) > 0, proto: r.Proto, method: r.Method,
		path: r.URL.Path, header: r.Header.Clone(), rawType: r.Header.Get("Content-Type"), at: time.Now(),
	})
	return len(c.reqs)
}

func (c *captureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		c.record(r, "grpc")
		c.grpc.ServeHTTP(w, r)
		return
	}
	n := c.record(r, "http")
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if proto.Unmarshal(b, &req) == nil && r.Header.Get("Content-Type") == "application/x-protobuf" {
		c.mu.Lock()
		c.reqs[n-1].payload = &req
		c.mu.Unlock()
	}
	a := c.answer(n)
	if a.hang {
		<-r.Context().Done()
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if a.status != 0 && a.status != http.StatusOK {
		http.Error(w, "scripted", a.status)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// Export is the gRPC TraceService; ServeHTTP recorded the headers just
// before, and requests come one at a time.
func (c *captureServer) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	n := len(c.reqs)
	c.reqs[n-1].payload = req
	c.mu.Unlock()
	a := c.answer(n)
	if a.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if a.code != codes.OK {
		st := status.New(a.code, "scripted")
		if a.retryInfo > 0 {
			st, _ = st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(a.retryInfo)})
		}
		return nil, st.Err()
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *captureServer) take() []seen {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// selfSigned returns a certificate for localhost, 127.0.0.1 and ::1 and
// the paths of its PEM file (the trusted root for the clients) and of its
// key (with the certificate, a client certificate for mutual TLS).
func selfSigned(t *testing.T) (*tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "otlp conformance"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	dir := t.TempDir()
	file, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file, keyFile
}

// clearOTELEnv unsets every OTEL_ variable for the test (upstream and
// ours treat an empty value as unset).
func clearOTELEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
}

// fastRetry keeps the upstream exporters' retries short (their backoff
// starts at 5 s and is not an environment setting); Retry-After and
// RetryInfo are still honoured as the larger of the two waits.
var fastRetry = struct {
	http otlptracehttp.RetryConfig
	grpc otlptracegrpc.RetryConfig
}{
	otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 30 * time.Second},
	otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 30 * time.Second},
}

// outcome is what one exporter did in one row.
type outcome struct {
	err  error
	reqs []seen
}

func runExporter(t *testing.T, c *captureServer, outer time.Duration, newExp func(context.Context) (sdktrace.SpanExporter, error), in []sdktrace.ReadOnlySpan) outcome {
	t.Helper()
	if outer == 0 {
		outer = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), outer)
	defer cancel()
	exp, err := newExp(ctx)
	if err != nil {
		return outcome{err: err}
	}
	err = exp.ExportSpans(ctx, in)
	_ = exp.Shutdown(ctx)
	return outcome{err: err, reqs: c.take()}
}

// Header names that legitimately differ and are checked separately.
var headerSkip = map[string]bool{
	"User-Agent":     true, // identifies the exporter (docs/OTLP.md)
	"Content-Length": true, // gzip output of two encoders need not match byte for byte
	"Grpc-Timeout":   true, // the remaining deadline when the call starts
}

func comparableHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if !headerSkip[k] {
			out[k] = v
		}
	}
	return out
}

// parseGRPCTimeout parses a grpc-timeout header ("300m", "1S", …).
func parseGRPCTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[v[len(v)-1]]
	return time.Duration(n) * unit, unit != 0
}

func TestConformanceWithUpstream(t *testing.T) {
	cert, caFile, keyFile := selfSigned(t)
	in := spans(t, 3)

	// want describes our exporter's request; upstreamDiffers, when set,
	// names the documented difference and upstreamOK says whether the
	// upstream exporter still delivers.
	type row struct {
		name     string
		grpc     bool
		tls      bool              // capture server speaks TLS
		mtls     bool              // … and requires a client certificate
		env      map[string]string // {addr}, {port} and {ca} are replaced
		script   func(int) reply
		wantErr  bool          // our export fails (both, unless upstreamDiffers)
		noReqs   bool          // our exporter never gets a request through
		outer    time.Duration // deadline of the ExportSpans context (default 30 s)
		wantReqs int           // requests our exporter makes (default 1)
		wantPath string        // HTTP path (gRPC: the Export method)
		wantHdr  map[string]string
		check    func(t *testing.T, ours []seen)
		// upstreamDiffers: the documented difference; upstreamOK: whether
		// upstream still delivers to the capture server.
		upstreamDiffers string
		upstreamOK      bool
		// upstreamPath: where upstream posts when it differs but delivers.
		upstreamPath string
		// upstreamCheck replaces the generic check of a difference.
		upstreamCheck func(t *testing.T, o outcome)
	}
	const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	httpP := map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	http503 := func(n int) reply {
		if n == 1 {
			return reply{status: http.StatusServiceUnavailable, retryAfter: "1"}
		}
		return reply{}
	}
	http429 := func(n int) reply {
		if n == 1 {
			return reply{status: http.StatusTooManyRequests, retryAfter: "1"}
		}
		return reply{}
	}
	atLeastOneSecondApart := func(t *testing.T, got []seen) {
		require.Len(t, got, 2)
		assert.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 900*time.Millisecond, "Retry-After / RetryInfo of 1 s honoured")
	}
	rows := []row{
		// OTLP/HTTP endpoints.
		{name: "http/generic endpoint, no path", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}"), wantPath: "/v1/traces"},
		{name: "http/generic endpoint with path", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}/base"), wantPath: "/base/v1/traces"},
		{name: "http/generic endpoint with trailing slash", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}/base/"), wantPath: "/base/v1/traces"},
		{name: "http/signal endpoint with path, used as is", env: with(httpP, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://{addr}/custom/path"), wantPath: "/custom/path"},
		{name: "http/signal endpoint without path is the root", env: with(httpP, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://{addr}"), wantPath: "/"},
		{name: "http/signal endpoint wins over generic", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1/unused", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://{addr}/x"), wantPath: "/x"},
		{name: "http/https with CERTIFICATE", tls: true, env: with(httpP, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://localhost:{port}/v1/traces", "OTEL_EXPORTER_OTLP_CERTIFICATE", "{ca}"), wantPath: "/v1/traces"},
		{name: "http/https generic with TRACES_CERTIFICATE", tls: true, env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "https://{addr}", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "{ca}"), wantPath: "/v1/traces"},
		{name: "http/mutual TLS with CLIENT_CERTIFICATE and CLIENT_KEY", tls: true, mtls: true, env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "https://{addr}", "OTEL_EXPORTER_OTLP_CERTIFICATE", "{ca}",
			"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "{ca}", "OTEL_EXPORTER_OTLP_CLIENT_KEY", "{key}"), wantPath: "/v1/traces"},
		{name: "http/https scheme wins over INSECURE=true", tls: true, env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "https://{addr}", "OTEL_EXPORTER_OTLP_CERTIFICATE", "{ca}", "OTEL_EXPORTER_OTLP_INSECURE", "true"), wantPath: "/v1/traces",
			upstreamDiffers: "upstream lets INSECURE override the scheme and sends plaintext to the TLS port"},
		{name: "http/http scheme wins over INSECURE=false", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_INSECURE", "false"), wantPath: "/v1/traces",
			upstreamDiffers: "upstream lets INSECURE=false override the scheme and tries TLS on the plaintext port", outer: 3 * time.Second},
		{name: "http/no scheme with INSECURE=true", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:{port}", "OTEL_EXPORTER_OTLP_INSECURE", "true"), wantPath: "/v1/traces",
			upstreamDiffers: "upstream parses localhost:port as scheme \"localhost\" and builds a URL without a host"},
		{name: "http/no scheme is TLS", tls: true, env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:{port}", "OTEL_EXPORTER_OTLP_CERTIFICATE", "{ca}"), wantPath: "/v1/traces",
			upstreamDiffers: "upstream parses localhost:port as scheme \"localhost\" and builds a URL without a host"},
		{name: "http/headers percent-encoded", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x=1"), wantPath: "/v1/traces",
			wantHdr: map[string]string{"Api-Key": "a b", "X": "1", "Content-Type": "application/x-protobuf"}},
		{name: "http/TRACES_HEADERS replace HEADERS", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_HEADERS", "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"), wantPath: "/v1/traces",
			wantHdr: map[string]string{"B": "2", "A": ""}},
		{name: "http/gzip", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"), wantPath: "/v1/traces",
			wantHdr: map[string]string{"Content-Encoding": "gzip"}},
		{name: "http/TRACES_COMPRESSION wins", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_COMPRESSION", "none", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"), wantPath: "/v1/traces",
			wantHdr: map[string]string{"Content-Encoding": "gzip"}},
		{name: "http/timeout against a collector that never answers", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}", "OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
			script: func(int) reply { return reply{hang: true} }, wantErr: true, wantPath: "/v1/traces", outer: 3 * time.Second,
			upstreamDiffers: "upstream otlptracehttp applies the timeout to each attempt and retries for up to a minute",
			upstreamCheck: func(t *testing.T, o outcome) {
				require.Error(t, o.err)
				assert.GreaterOrEqual(t, len(o.reqs), 2, "upstream retried the timed-out attempt")
			}},
		{name: "http/503 with Retry-After is retried", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}"), script: http503, wantReqs: 2, wantPath: "/v1/traces", check: atLeastOneSecondApart},
		{name: "http/429 with Retry-After is retried", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}"), script: http429, wantReqs: 2, wantPath: "/v1/traces", check: atLeastOneSecondApart},
		{name: "http/400 is final", env: with(httpP, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}"), script: func(int) reply { return reply{status: http.StatusBadRequest} }, wantErr: true, wantPath: "/v1/traces"},
		{name: "http/json is sent as protobuf", env: with(httpP, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://{addr}"), wantPath: "/v1/traces",
			wantHdr:         map[string]string{"Content-Type": "application/x-protobuf"},
			upstreamDiffers: "upstream sends OTLP/JSON; ours reports and sends protobuf", upstreamOK: true, upstreamPath: "/v1/traces"},

		// OTLP/gRPC endpoints (the path is ignored).
		{name: "grpc/generic endpoint", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}"}},
		{name: "grpc/generic endpoint path ignored", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}/ignored"}},
		{name: "grpc/signal endpoint path ignored", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://{addr}/v1/traces"}},
		{name: "grpc/no scheme with INSECURE=true", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:{port}", "OTEL_EXPORTER_OTLP_INSECURE": "true"}},
		{name: "grpc/no scheme is TLS", grpc: true, tls: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:{port}", "OTEL_EXPORTER_OTLP_CERTIFICATE": "{ca}"}},
		{name: "grpc/signal endpoint without scheme, TRACES_INSECURE", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "localhost:{port}", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true"}},
		{name: "grpc/TRACES_INSECURE wins", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:{port}", "OTEL_EXPORTER_OTLP_INSECURE": "false", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true"}},
		{name: "grpc/no scheme, IP address", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "{addr}", "OTEL_EXPORTER_OTLP_INSECURE": "true"},
			upstreamDiffers: "upstream fails to parse 127.0.0.1:port as a URL and falls back to localhost:4317", outer: 3 * time.Second},
		{name: "grpc/no scheme with a path", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:{port}/ignored", "OTEL_EXPORTER_OTLP_INSECURE": "true"},
			upstreamDiffers: "upstream dials the target \"localhost:port/ignored\", which does not resolve", outer: 3 * time.Second},
		{name: "grpc/https with CERTIFICATE", grpc: true, tls: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://localhost:{port}", "OTEL_EXPORTER_OTLP_CERTIFICATE": "{ca}"}},
		{name: "grpc/mutual TLS with TRACES_CLIENT_CERTIFICATE and TRACES_CLIENT_KEY", grpc: true, tls: true, mtls: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://{addr}", "OTEL_EXPORTER_OTLP_CERTIFICATE": "{ca}",
			"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "{ca}", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "{key}"}},
		{name: "grpc/https scheme and CERTIFICATE win over INSECURE=true", grpc: true, tls: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://{addr}", "OTEL_EXPORTER_OTLP_CERTIFICATE": "{ca}", "OTEL_EXPORTER_OTLP_INSECURE": "true"}},
		{name: "grpc/https scheme wins over INSECURE=true", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://{addr}", "OTEL_EXPORTER_OTLP_INSECURE": "true"},
			wantErr: true, noReqs: true, // TLS to a plaintext port: the handshake fails
			upstreamDiffers: "upstream lets INSECURE override the https scheme (unless a CERTIFICATE is set) and sends plaintext",
			upstreamCheck: func(t *testing.T, o outcome) {
				require.NoError(t, o.err)
				require.Len(t, o.reqs, 1)
				assert.False(t, o.reqs[0].tls)
			}},
		{name: "grpc/http scheme wins over INSECURE=false", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}", "OTEL_EXPORTER_OTLP_INSECURE": "false"},
			upstreamDiffers: "upstream lets INSECURE=false override the scheme and tries TLS on the plaintext port", outer: 3 * time.Second},
		{name: "grpc/headers percent-encoded", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b,x=1"},
			wantHdr: map[string]string{"Api-Key": "a b", "X": "1", "Content-Type": "application/grpc"}},
		{name: "grpc/gzip", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
			wantHdr: map[string]string{"Grpc-Encoding": "gzip"}},
		{name: "grpc/timeout against a collector that never answers", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}", "OTEL_EXPORTER_OTLP_TIMEOUT": "300"},
			script: func(int) reply { return reply{hang: true} }, wantErr: true,
			check: func(t *testing.T, got []seen) {
				d, ok := parseGRPCTimeout(got[0].header.Get("Grpc-Timeout"))
				require.True(t, ok, "grpc-timeout %q", got[0].header.Get("Grpc-Timeout"))
				assert.LessOrEqual(t, d, 300*time.Millisecond)
			}},
		{name: "grpc/UNAVAILABLE is retried", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}"},
			script: func(n int) reply {
				if n == 1 {
					return reply{code: codes.Unavailable}
				}
				return reply{}
			}, wantReqs: 2},
		{name: "grpc/RESOURCE_EXHAUSTED with RetryInfo is retried", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}"},
			script: func(n int) reply {
				if n == 1 {
					return reply{code: codes.ResourceExhausted, retryInfo: time.Second}
				}
				return reply{}
			}, wantReqs: 2, check: atLeastOneSecondApart},
		{name: "grpc/RESOURCE_EXHAUSTED without RetryInfo is final", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}"},
			script: func(int) reply { return reply{code: codes.ResourceExhausted} }, wantErr: true},
		{name: "grpc/INVALID_ARGUMENT is final", grpc: true, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://{addr}"},
			script: func(int) reply { return reply{code: codes.InvalidArgument} }, wantErr: true},
	}

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			clearOTELEnv(t)
			var srvCert *tls.Certificate
			if r.tls {
				srvCert = cert
			}
			c := startCapture(t, srvCert, r.mtls, r.script)
			for k, v := range r.env {
				v = strings.NewReplacer("{addr}", c.addr, "{port}", c.port, "{ca}", caFile, "{key}", keyFile).Replace(v)
				t.Setenv(k, v)
			}
			var reports []error
			var mu sync.Mutex
			ours := runExporter(t, c, r.outer, func(context.Context) (sdktrace.SpanExporter, error) {
				return New(Options{Report: func(err error) { mu.Lock(); reports = append(reports, err); mu.Unlock() }})
			}, in)
			upstream := runExporter(t, c, r.outer, func(ctx context.Context) (sdktrace.SpanExporter, error) {
				if r.grpc {
					return otlptracegrpc.New(ctx, otlptracegrpc.WithRetry(fastRetry.grpc))
				}
				return otlptracehttp.New(ctx, otlptracehttp.WithRetry(fastRetry.http))
			}, in)
			t.Logf("ours: err=%v reqs=%d reports=%v; upstream: err=%v reqs=%d", ours.err, len(ours.reqs), reports, upstream.err, len(upstream.reqs))

			// Ours, against the specification.
			wantReqs := max(r.wantReqs, 1)
			if r.wantErr {
				require.Error(t, ours.err)
			} else {
				require.NoError(t, ours.err)
			}
			if r.noReqs {
				wantReqs = 0
			}
			require.Len(t, ours.reqs, wantReqs)
			wantPath, transport := r.wantPath, "http"
			if r.grpc {
				wantPath, transport = exportMethod, "grpc"
			}
			for _, q := range ours.reqs {
				assert.Equal(t, transport, q.transport)
				assert.Equal(t, r.tls, q.tls, "TLS")
				assert.Equal(t, r.mtls, q.clientTLS, "client certificate")
				assert.Equal(t, http.MethodPost, q.method)
				assert.Equal(t, wantPath, q.path)
				assert.Equal(t, userAgent, strings.Fields(q.header.Get("User-Agent"))[0])
				for k, v := range r.wantHdr {
					assert.Equal(t, v, q.header.Get(k), "header %s", k)
				}
				require.NotNil(t, q.payload, "payload decodes")
			}
			if r.check != nil {
				r.check(t, ours.reqs)
			}

			// Upstream: the same, or the documented difference.
			if r.upstreamDiffers != "" {
				t.Logf("documented difference: %s", r.upstreamDiffers)
				if r.upstreamCheck != nil {
					r.upstreamCheck(t, upstream)
					return
				}
				if !r.upstreamOK {
					assert.True(t, upstream.err != nil || len(upstream.reqs) == 0 || upstream.reqs[0].tls != r.tls,
						"upstream now delivers; update docs/OTLP.md")
					return
				}
				require.NotEmpty(t, upstream.reqs)
				assert.Equal(t, r.upstreamPath, upstream.reqs[0].path)
				return
			}
			if r.wantErr {
				require.Error(t, upstream.err)
			} else {
				require.NoError(t, upstream.err)
			}
			require.Len(t, upstream.reqs, len(ours.reqs))
			if r.check != nil {
				r.check(t, upstream.reqs)
			}
			for i, u := range upstream.reqs {
				o := ours.reqs[i]
				assert.Equal(t, u.transport, o.transport)
				assert.Equal(t, u.tls, o.tls, "TLS")
				assert.Equal(t, u.clientTLS, o.clientTLS, "client certificate")
				assert.Equal(t, u.proto, o.proto, "HTTP version")
				assert.Equal(t, u.method, o.method)
				assert.Equal(t, u.path, o.path)
				assert.Equal(t, comparableHeaders(u.header), comparableHeaders(o.header))
				assert.Equal(t, u.header.Get("Grpc-Timeout") != "", o.header.Get("Grpc-Timeout") != "", "grpc-timeout sent")
				assert.True(t, strings.HasPrefix(u.header.Get("User-Agent"), "OTel OTLP Exporter Go/"), "upstream user agent %q", u.header.Get("User-Agent"))
				if u.payload != nil || o.payload != nil {
					require.NotNil(t, u.payload)
					require.NotNil(t, o.payload)
					assert.True(t, proto.Equal(u.payload, o.payload), "payloads differ\nupstream: %v\nours:     %v", u.payload, o.payload)
				}
			}
		})
	}
}

// TestTLSConfigOption: trusted roots and a client certificate set in code
// (Options.TLSConfig, Config.Traces.OTLPTLSConfig at the root) need no
// files, and replace the certificate variables.
func TestTLSConfigOption(t *testing.T) {
	cert, _, _ := selfSigned(t)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			c := startCapture(t, cert, true, nil)
			e := newExporter(t, Options{
				Endpoint:  "https://localhost:" + c.port + "/v1/traces",
				Protocol:  protocol,
				TLSConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{*cert}},
				Getenv: env(map[string]string{
					"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem", // not read
					"OTEL_EXPORTER_OTLP_INSECURE":    "true",                // https decides
				}),
			})
			require.NoError(t, e.ExportSpans(context.Background(), spans(t, 2)))
			got := c.take()
			require.Len(t, got, 1)
			assert.True(t, got[0].tls)
			assert.True(t, got[0].clientTLS, "client certificate presented")
			assert.Equal(t, "localhost", e.s.tls.ServerName)
			assert.Equal(t, uint16(tls.VersionTLS12), e.s.tls.MinVersion)
		})
	}
}
