package otlpexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // server side decompression
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/o11y-go/o11y/internal/configerr"
)

func init() {
	// Tests must not wait for real backoff intervals.
	backoffFn = func(int) time.Duration { return 10 * time.Millisecond }
}

// spans returns n ended spans from a real TracerProvider.
func spans(t testing.TB, n int) []sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := tp.Tracer("test")
	for i := range n {
		_, s := tr.Start(context.Background(), "GET /orders/{id}")
		s.SetAttributes(attribute.String("http.route", "/orders/{id}"), attribute.Int("i", i))
		s.End()
	}
	return rec.Ended()
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// collector is a gRPC TraceService on loopback whose answers a test scripts.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu     sync.Mutex
	reqs   []*coltracepb.ExportTraceServiceRequest
	md     []metadata.MD
	answer func(call int) (*coltracepb.ExportTraceServiceResponse, error)
	calls  atomic.Int32
	addr   string
}

func (c *collector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	n := int(c.calls.Add(1))
	md, _ := metadata.FromIncomingContext(ctx)
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.md = append(c.md, md)
	c.mu.Unlock()
	if c.answer != nil {
		return c.answer(n)
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *collector) spanCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.reqs {
		for _, rs := range r.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
	}
	return n
}

func startCollector(t *testing.T, answer func(int) (*coltracepb.ExportTraceServiceResponse, error)) *collector {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &collector{answer: answer, addr: lis.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c
}

func newExporter(t *testing.T, o Options) *Exporter {
	t.Helper()
	e, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func TestGRPCExport(t *testing.T) {
	c := startCollector(t, nil)
	e := newExporter(t, Options{Endpoint: "http://" + c.addr, Getenv: env(map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS":     "api-key=s%3Dcret, tenant = a",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
	})})
	in := spans(t, 300)
	require.NoError(t, e.ExportSpans(context.Background(), in))
	require.NoError(t, e.ExportSpans(context.Background(), in[:5]))
	assert.Equal(t, 305, c.spanCount())
	got := c.reqs[0].ResourceSpans[0].ScopeSpans[0].Spans[0]
	sc := in[0].SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	assert.Equal(t, tid[:], got.TraceId)
	assert.Equal(t, sid[:], got.SpanId)
	assert.Equal(t, "GET /orders/{id}", got.Name)
	assert.Equal(t, []string{"s=cret"}, c.md[0].Get("api-key"))
	assert.Equal(t, []string{"a"}, c.md[0].Get("tenant"))
	assert.Contains(t, c.md[0].Get("user-agent")[0], userAgent)
}

func TestGRPCRetries(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(int) (*coltracepb.ExportTraceServiceResponse, error)
		wantErr   bool
		wantCalls int32
	}{
		{"unavailable then ok", func(n int) (*coltracepb.ExportTraceServiceResponse, error) {
			if n < 3 {
				return nil, status.Error(codes.Unavailable, "busy")
			}
			return &coltracepb.ExportTraceServiceResponse{}, nil
		}, false, 3},
		{"invalid argument is final", func(int) (*coltracepb.ExportTraceServiceResponse, error) {
			return nil, status.Error(codes.InvalidArgument, "bad")
		}, true, 1},
		{"resource exhausted without RetryInfo is final", func(int) (*coltracepb.ExportTraceServiceResponse, error) {
			return nil, status.Error(codes.ResourceExhausted, "full")
		}, true, 1},
		{"resource exhausted with RetryInfo is retried", func(n int) (*coltracepb.ExportTraceServiceResponse, error) {
			if n == 1 {
				st, _ := status.New(codes.ResourceExhausted, "full").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(20 * time.Millisecond)})
				return nil, st.Err()
			}
			return &coltracepb.ExportTraceServiceResponse{}, nil
		}, false, 2},
		{"gives up after five attempts", func(int) (*coltracepb.ExportTraceServiceResponse, error) {
			return nil, status.Error(codes.Unavailable, "down")
		}, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startCollector(t, tt.answer)
			var reports []error
			e := newExporter(t, Options{Endpoint: "http://" + c.addr, Report: func(err error) { reports = append(reports, err) }})
			err := e.ExportSpans(context.Background(), spans(t, 2))
			assert.Equal(t, tt.wantErr, err != nil, "err %v", err)
			assert.Equal(t, tt.wantCalls, c.calls.Load())
			// The first failed attempt of a retried export is reported
			// once; a final failure is the caller's to report.
			if tt.wantCalls > 1 {
				require.Len(t, reports, 1)
				assert.Contains(t, reports[0].Error(), "failed, retrying")
			} else {
				assert.Empty(t, reports)
			}
		})
	}
}

func TestPartialSuccess(t *testing.T) {
	c := startCollector(t, func(int) (*coltracepb.ExportTraceServiceResponse, error) {
		return &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: 2, ErrorMessage: "too old"}}, nil
	})
	e := newExporter(t, Options{Endpoint: "http://" + c.addr})
	err := e.ExportSpans(context.Background(), spans(t, 3))
	var ps *PartialSuccess
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, int64(2), ps.Rejected)
	assert.Equal(t, "too old", ps.Message)
}

func TestUnreachableIsBoundedByTimeout(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close()) // nothing listens there now
	for _, proto := range []string{"grpc", "http/protobuf"} {
		t.Run(proto, func(t *testing.T) {
			e := newExporter(t, Options{Endpoint: "http://" + addr, Protocol: proto,
				Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "300"})})
			start := time.Now()
			err := e.ExportSpans(context.Background(), spans(t, 1))
			assert.Error(t, err)
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

func TestShutdown(t *testing.T) {
	c := startCollector(t, nil)
	e, err := New(Options{Endpoint: "http://" + c.addr})
	require.NoError(t, err)
	require.NoError(t, e.Shutdown(context.Background()))
	assert.ErrorIs(t, e.ExportSpans(context.Background(), spans(t, 1)), ErrShutdown)
	assert.NoError(t, e.Shutdown(context.Background()), "second shutdown")
	assert.Equal(t, int32(0), c.calls.Load())
}

func TestShutdownAbortedByContext(t *testing.T) {
	// An export hangs on a collector that never answers; Shutdown with an
	// expired context returns at once.
	block := make(chan struct{})
	c := startCollector(t, func(int) (*coltracepb.ExportTraceServiceResponse, error) {
		<-block
		return &coltracepb.ExportTraceServiceResponse{}, nil
	})
	defer close(block)
	e := newExporter(t, Options{Endpoint: "http://" + c.addr, Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "2000"})})
	go func() { _ = e.ExportSpans(context.Background(), spans(t, 1)) }()
	require.Eventually(t, func() bool { return c.calls.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, e.Shutdown(ctx), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
}

// httpCollector records posted bodies and answers with the scripted status.
type httpCollector struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	calls   atomic.Int32
	answer  func(call int, w http.ResponseWriter)
}

func (h *httpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(h.calls.Add(1))
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	h.mu.Lock()
	h.bodies = append(h.bodies, b)
	h.headers = append(h.headers, r.Header.Clone())
	h.mu.Unlock()
	if h.answer != nil {
		h.answer(n, w)
		return
	}
	w.WriteHeader(200)
}

func TestHTTPExport(t *testing.T) {
	h := &httpCollector{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := newExporter(t, Options{Endpoint: srv.URL + "/v1/traces", Protocol: "http/protobuf", Getenv: env(map[string]string{
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":     "Authorization=Bearer%20x",
		"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
	})})
	in := spans(t, 10)
	require.NoError(t, e.ExportSpans(context.Background(), in))
	require.Len(t, h.bodies, 1)
	var req coltracepb.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(h.bodies[0], &req))
	assert.Len(t, req.ResourceSpans[0].ScopeSpans[0].Spans, 10)
	hd := h.headers[0]
	assert.Equal(t, "application/x-protobuf", hd.Get("Content-Type"))
	assert.Equal(t, "gzip", hd.Get("Content-Encoding"))
	assert.Equal(t, "Bearer x", hd.Get("Authorization"))
	assert.Equal(t, userAgent, hd.Get("User-Agent"))
	assert.Equal(t, "/v1/traces", e.s.endpoint.Path)
}

func TestHTTPStatuses(t *testing.T) {
	partial, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "x"}})
	tests := []struct {
		name      string
		answer    func(int, http.ResponseWriter)
		wantErr   string
		wantCalls int32
	}{
		{"503 then ok", func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				return
			}
			w.WriteHeader(200)
		}, "", 2},
		{"400 is final", func(_ int, w http.ResponseWriter) {
			http.Error(w, "malformed\x00 request", 400)
		}, "400 Bad Request: malformed request", 1},
		{"429 retried until attempts run out", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(429)
		}, "429", 5},
		{"partial success", func(_ int, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-protobuf")
			_, _ = w.Write(partial)
		}, "rejected 1 spans: x", 1},
		{"2xx with a text body is success", func(_ int, w http.ResponseWriter) {
			_, _ = w.Write([]byte("ok"))
		}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &httpCollector{answer: tt.answer}
			srv := httptest.NewServer(h)
			defer srv.Close()
			e := newExporter(t, Options{Endpoint: srv.URL + "/custom/path", Protocol: "http/protobuf"})
			err := e.ExportSpans(context.Background(), spans(t, 1))
			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			assert.Equal(t, tt.wantCalls, h.calls.Load())
		})
	}
}

func TestHTTPSWithCertificateFile(t *testing.T) {
	h := &httpCollector{}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	// Without the certificate the server is not trusted.
	e := newExporter(t, Options{Endpoint: srv.URL, Protocol: "http/protobuf"})
	err := e.ExportSpans(context.Background(), spans(t, 1))
	var certErr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &certErr)
	assert.Equal(t, int32(0), h.calls.Load())

	e = newExporter(t, Options{Endpoint: srv.URL, Protocol: "http/protobuf",
		Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": certFile})})
	require.NoError(t, e.ExportSpans(context.Background(), spans(t, 1)))
	assert.NotNil(t, e.s.tls)
	assert.Equal(t, uint16(tls.VersionTLS12), e.s.tls.MinVersion)
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		o        Options
		env      map[string]string
		endpoint string
		target   string
		tls      bool
		timeout  time.Duration
		gzip     bool
		headers  map[string]string
		err      string
		reports  int
		report   string // in one of the reports
	}{
		{name: "grpc default", endpoint: "http://localhost:4317", target: "localhost:4317", timeout: DefaultTimeout},
		{name: "http default", o: Options{Protocol: "http/protobuf"}, endpoint: "http://localhost:4318/v1/traces", timeout: DefaultTimeout},
		{name: "grpc host:port is TLS", o: Options{Endpoint: "collector:4317"}, endpoint: "https://collector:4317", target: "collector:4317", tls: true},
		{name: "grpc host:port, Insecure", o: Options{Endpoint: "collector:4317", Insecure: true}, endpoint: "http://collector:4317", target: "collector:4317"},
		{name: "grpc host:port, INSECURE", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_INSECURE": "TRUE"}, endpoint: "http://collector:4317", target: "collector:4317"},
		{name: "grpc TRACES_INSECURE wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false"}, endpoint: "https://collector:4317", target: "collector:4317", tls: true},
		{name: "grpc https scheme wins over INSECURE", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, endpoint: "https://c:4317", target: "c:4317", tls: true, reports: 1},
		{name: "grpc http scheme wins over INSECURE=false", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_INSECURE": "false"}, endpoint: "http://c:4317", target: "c:4317"},
		{name: "grpc path ignored", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317/some/path"}, endpoint: "http://c:4317", target: "c:4317"},
		{name: "grpc no port: gRPC's default", o: Options{Endpoint: "https://otlp.example.com"}, endpoint: "https://otlp.example.com", target: "otlp.example.com", tls: true},
		{name: "grpc dns target form", o: Options{Endpoint: "dns:///c:4317", Insecure: true}, endpoint: "http://c:4317", target: "c:4317"},
		{name: "bad INSECURE reported", env: map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "yes"}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1},
		{name: "http signal URL as is", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:4318/custom/path"}, endpoint: "http://h:4318/custom/path"},
		{name: "http signal URL without path is /", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:4318"}, endpoint: "http://h:4318/"},
		{name: "http signal URL wins over generic", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://g:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:4318/x"}, endpoint: "http://h:4318/x"},
		{name: "http generic gets /v1/traces", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}, endpoint: "http://h:4318/v1/traces"},
		{name: "http generic with path", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://h/base"}, endpoint: "https://h/base/v1/traces", tls: true},
		{name: "http generic with trailing slash", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318/base/"}, endpoint: "http://h:4318/base/v1/traces"},
		{name: "http generic without scheme: TLS, reported", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "h:4318"}, endpoint: "https://h:4318/v1/traces", tls: true, reports: 1},
		{name: "http without scheme, INSECURE", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "h:4318", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, endpoint: "http://h:4318/v1/traces", reports: 1},
		{name: "http https scheme wins over INSECURE", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://h/v1/traces", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, endpoint: "https://h/v1/traces", tls: true, reports: 1},
		{name: "http query and fragment dropped", o: Options{Endpoint: "http://h:4318/p?x=1#f", Protocol: "http/protobuf"}, endpoint: "http://h:4318/p"},
		{name: "http/json falls back to protobuf", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, endpoint: "http://localhost:4318/v1/traces", reports: 1},
		{name: "code options win over env", o: Options{Timeout: 3 * time.Second, Compression: "gzip", Headers: map[string]string{"Api-Key": "k"}},
			env:      map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_EXPORTER_OTLP_COMPRESSION": "none", "OTEL_EXPORTER_OTLP_HEADERS": "x=1"},
			endpoint: "http://localhost:4317", target: "localhost:4317", timeout: 3 * time.Second, gzip: true, headers: map[string]string{"api-key": "k"}},
		{name: "TRACES_HEADERS replace HEADERS", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1,b=2", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "c=a%20b"},
			endpoint: "http://localhost:4317", target: "localhost:4317", headers: map[string]string{"c": "a b"}},
		{name: "http keeps path", o: Options{Endpoint: "http://c:4318/v1/traces", Protocol: "HTTP/PROTOBUF"}, endpoint: "http://c:4318/v1/traces", timeout: DefaultTimeout},
		{name: "traces vars win", env: map[string]string{
			"OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
			"OTEL_EXPORTER_OTLP_COMPRESSION": "none", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
		}, endpoint: "http://localhost:4317", target: "localhost:4317", timeout: 2500 * time.Millisecond, gzip: true},
		{name: "bad values fall back and report", env: map[string]string{
			"OTEL_EXPORTER_OTLP_TIMEOUT": "soon", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd",
			"OTEL_EXPORTER_OTLP_HEADERS": "ok=1,novalue,bad key=2,x=%zz",
		}, endpoint: "http://localhost:4317", target: "localhost:4317", timeout: DefaultTimeout, headers: map[string]string{"ok": "1"}, reports: 3},
		{name: "unknown protocol: gRPC", o: Options{Protocol: "thrift"}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1,
			report: `o11y: config: otlpexport.Options.Protocol="thrift": unknown OTLP protocol (want grpc or http/protobuf); using grpc`},
		{name: "unknown protocol from env", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1,
			report: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="thrift"`},
		{name: "http bad scheme: default", o: Options{Endpoint: "ftp://x", Protocol: "http/protobuf", FieldPrefix: "Config.Traces.OTLP"}, endpoint: "http://localhost:4318/v1/traces", reports: 1,
			report: `o11y: config: Config.Traces.OTLPEndpoint="ftp://x": scheme must be http or https; using http://localhost:4318/v1/traces`},
		{name: "grpc unknown scheme: default", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://c:4317"}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1,
			report: `OTEL_EXPORTER_OTLP_ENDPOINT="ftp://c:4317": scheme must be http or https`},
		{name: "no host: default", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://:4317"}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1,
			report: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://:4317": no host; using http://localhost:4317`},
		{name: "headers redacted, one report", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "Bearer secret123,ok=1"}, endpoint: "http://localhost:4317", target: "localhost:4317",
			headers: map[string]string{"ok": "1"}, reports: 1,
			report: `o11y: config: OTEL_EXPORTER_OTLP_HEADERS="[REDACTED]": malformed entries 1 of 2 (want key=value, values percent-encoded); using the other entries`},
		{name: "negative timeout in code", o: Options{Timeout: -time.Second}, endpoint: "http://localhost:4317", target: "localhost:4317", reports: 1,
			report: `otlpexport.Options.Timeout="-1s": negative; using 10000`},
		{name: "missing cert file: no exporter", o: Options{Endpoint: "https://x"}, env: map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent.pem"},
			err: `o11y: config: OTEL_EXPORTER_OTLP_CERTIFICATE="/nonexistent.pem": cannot read the file: open: no such file or directory; using no OTLP export`},
		{name: "client cert without key", o: Options{Endpoint: "https://x"}, env: map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/c.pem"},
			err: `o11y: config: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="/c.pem": set without OTEL_EXPORTER_OTLP_CLIENT_KEY; using no OTLP export`},
		{name: "client key without certificate", o: Options{Endpoint: "https://x"}, env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "/k.pem"},
			err: `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY="/k.pem": set without OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`},
		{name: "client pair: an incomplete TRACES_ pair leaves the generic pair", o: Options{Endpoint: "https://x"}, env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/t.pem", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/g.pem", "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/gk.pem"},
			err: `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="/g.pem": cannot load it with OTEL_EXPORTER_OTLP_CLIENT_KEY="/gk.pem"`},
		{name: "client pair: never one file from each", o: Options{Endpoint: "https://x"}, env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/t.pem", "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/gk.pem"},
			err: "set without OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY"},
		{name: "client pair: TRACES_ pair wins", o: Options{Endpoint: "https://x"}, env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/t.pem", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "/tk.pem",
			"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/g.pem", "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/gk.pem"},
			err: `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE="/t.pem"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reports []error
			o := tt.o
			o.Getenv = env(tt.env)
			o.Report = func(err error) { reports = append(reports, err) }
			s, err := resolve(o)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				var ce *configerr.Error
				assert.True(t, errors.As(err, &ce), "a *configerr.Error: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.endpoint, s.endpoint.String())
			if s.protocol == "grpc" {
				assert.Equal(t, tt.target, s.target)
			}
			assert.Equal(t, tt.tls, s.tls != nil, "TLS")
			if tt.timeout == 0 {
				tt.timeout = DefaultTimeout
			}
			assert.Equal(t, tt.timeout, s.timeout)
			assert.Equal(t, tt.gzip, s.gzip)
			if tt.headers != nil {
				assert.Equal(t, tt.headers, s.headers)
			}
			assert.Len(t, reports, tt.reports, "%v", reports)
			for _, r := range reports {
				assert.NotContains(t, r.Error(), "%zz", "header values are not echoed")
				assert.NotContains(t, r.Error(), "secret123", "header values are not echoed")
				var ce *configerr.Error
				assert.True(t, errors.As(r, &ce), "a *configerr.Error: %v", r)
			}
			if tt.report != "" {
				var all []string
				for _, r := range reports {
					all = append(all, r.Error())
				}
				assert.Contains(t, strings.Join(all, "\n"), tt.report)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	assert.Equal(t, 3*time.Second, retryAfter("3"))
	assert.Equal(t, time.Minute, retryAfter("3600"))
	assert.Equal(t, time.Duration(0), retryAfter("soon"))
	d := retryAfter(time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat))
	assert.True(t, d > 8*time.Second && d <= 10*time.Second, "%v", d)
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= 8; attempt++ {
		base := 500 * time.Millisecond << min(attempt-1, 4)
		for range 20 {
			d := backoff(attempt)
			assert.True(t, d >= base*8/10 && d <= base*12/10, "attempt %d: %v", attempt, d)
		}
	}
}

func TestSnippet(t *testing.T) {
	assert.Equal(t, "ab", snippet([]byte("a\x00\nb")))
	assert.Len(t, snippet(bytes.Repeat([]byte("x"), 1000)), 200)
	assert.True(t, strings.HasPrefix(snippet([]byte("xyz")), "xyz"))
}
