package o11y

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// otlpSink is an OTLP/HTTP collector that records each request's path and
// headers; hold, when set, keeps requests open until the client gives up.
type otlpSink struct {
	hold  bool
	delay time.Duration // answer after this long (the code timeout must allow it)
	got   chan *http.Request
	mu    sync.Mutex
	tls   []bool
}

func newOTLPSink() *otlpSink { return &otlpSink{got: make(chan *http.Request, 100)} }

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tls = append(s.tls, r.TLS != nil)
	s.mu.Unlock()
	// Reading the body lets the server notice a client that gives up
	// (it watches the connection only once the body is consumed).
	_, _ = io.Copy(io.Discard, r.Body)
	s.got <- r.Clone(context.Background())
	if s.hold {
		<-r.Context().Done()
		return
	}
	if s.delay > 0 {
		time.Sleep(s.delay) // the collector is slow, not a wait for the test
	}
	w.WriteHeader(http.StatusOK)
}

func (s *otlpSink) next(t *testing.T) *http.Request {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(30 * time.Second): // hang guard
		t.Fatal("no OTLP request")
		return nil
	}
}

// configFromTestEnv clears the OTEL_ variables, sets env and returns
// ConfigFromEnv's result made fit for a test.
func configFromTestEnv(t *testing.T, env map[string]string, seen *errorsSeen) Config {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "O11Y_") {
			t.Setenv(k, "")
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg := ConfigFromEnv()
	cfg.Output = &bytes.Buffer{}
	cfg.DisableGlobals = true
	cfg.DisableResourceDetection = true
	cfg.ErrorHandler = seen.handle
	cfg.Traces.Sampler = "always_on"
	cfg.Metrics.Disable = true
	return cfg
}

func endSpans(sdk *SDK, n int) {
	for range n {
		_, span := sdk.Tracer().Start(context.Background(), "op")
		span.End()
	}
}

// TestOTLPEndpointFromEnvThroughStart: the path the user names is the path
// Start's exporter posts to (the signal URL as is, the generic one with
// /v1/traces), as the specification says.
func TestOTLPEndpointFromEnvThroughStart(t *testing.T) {
	sink := newOTLPSink()
	srv := httptest.NewServer(sink)
	defer srv.Close()
	tests := []struct {
		name, path string
		env        map[string]string
	}{
		{"signal URL used as is", "/custom/path", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/custom/path"}},
		{"generic URL gets /v1/traces", "/base/v1/traces", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/base/"}},
		{"signal URL wins", "/x", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/base", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
			seen := &errorsSeen{}
			sdk, err := Start(context.Background(), configFromTestEnv(t, tt.env, seen))
			require.NoError(t, err)
			endSpans(sdk, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, sdk.Shutdown(ctx))
			assert.Equal(t, tt.path, sink.next(t).URL.Path)
			assert.Equal(t, uint64(1), sdk.Stats().OTLPSpansExported)
			assert.Empty(t, seen.all())
		})
	}
}

// TestBSPMaxQueueSizeFromEnv: OTEL_BSP_MAX_QUEUE_SIZE bounds the OTLP queue
// (a default of 2048 used to be set before the variable was read).
func TestBSPMaxQueueSizeFromEnv(t *testing.T) {
	sink := newOTLPSink()
	sink.hold = true
	srv := httptest.NewServer(sink)
	defer srv.Close()
	seen := &errorsSeen{}
	cfg := configFromTestEnv(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    srv.URL,
		"OTEL_EXPORTER_OTLP_PROTOCOL":    "http/protobuf",
		"OTEL_BSP_MAX_QUEUE_SIZE":        "10",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
	}, seen)
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	endSpans(sdk, 10) // a full batch: exported at once, and held by the collector
	sink.next(t)
	endSpans(sdk, 15) // the queue (batch in flight included) is full
	assert.Equal(t, uint64(15), sdk.Stats().SpansDropped)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = sdk.Shutdown(ctx) // aborts the held export
}

// TestOTLPConfigFieldsWinOverEnv: settings set in code need no os.Setenv
// and take precedence over the OTEL_EXPORTER_OTLP_* variables.
func TestOTLPConfigFieldsWinOverEnv(t *testing.T) {
	sink := newOTLPSink()
	sink.delay = 50 * time.Millisecond // longer than the environment's 1 ms timeout
	srv := httptest.NewTLSServer(sink)
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	seen := &errorsSeen{}
	cfg := configFromTestEnv(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "http://127.0.0.1:1", // loses to the code's endpoint
		"OTEL_EXPORTER_OTLP_HEADERS":     "api-key=from-env,x-env=1",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "none",
		"OTEL_EXPORTER_OTLP_TIMEOUT":     "1",
		"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem", // not read: OTLPTLSConfig is set
	}, seen)
	cfg.Traces.OTLPEndpoint = srv.URL + "/v1/traces"
	cfg.Traces.OTLPProtocol = "http/protobuf"
	cfg.Traces.OTLPHeaders = map[string]string{"api-key": "from-code"}
	cfg.Traces.OTLPCompression = "gzip"
	cfg.Traces.OTLPTimeout = 10 * time.Second
	cfg.Traces.OTLPTLSConfig = &tls.Config{RootCAs: roots}

	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	endSpans(sdk, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sdk.Shutdown(ctx))
	r := sink.next(t)
	assert.Equal(t, "/v1/traces", r.URL.Path)
	assert.Equal(t, "from-code", r.Header.Get("Api-Key"))
	assert.Empty(t, r.Header.Get("X-Env"), "code headers replace the environment's")
	assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
	assert.NotNil(t, r.TLS)
	assert.Equal(t, uint64(2), sdk.Stats().OTLPSpansExported)
	assert.Empty(t, seen.all())
}

// TestOTLPInsecureField: an endpoint without a scheme is TLS unless
// OTLPInsecure is set (the rule of OTEL_EXPORTER_OTLP_INSECURE).
func TestOTLPInsecureField(t *testing.T) {
	sink := newOTLPSink()
	srv := httptest.NewServer(sink)
	defer srv.Close()
	seen := &errorsSeen{}
	cfg := configFromTestEnv(t, nil, seen)
	cfg.Traces.Exporter = "otlp"
	cfg.Traces.OTLPEndpoint = strings.TrimPrefix(srv.URL, "http://") + "/v1/traces"
	cfg.Traces.OTLPProtocol = "http/protobuf"
	cfg.Traces.OTLPInsecure = true
	sdk, err := Start(context.Background(), cfg)
	// OTLP/HTTP wants a scheme: the assumption is reported, once, as a
	// ConfigError naming the field and the URL in use, and joined into
	// Start's error like every other one.
	require.Error(t, err)
	require.Len(t, seen.all(), 1)
	var ce *ConfigError
	require.True(t, errors.As(seen.all()[0], &ce), "%v", seen.all()[0])
	assert.Equal(t, "Config.Traces.OTLPEndpoint", ce.Name)
	assert.Contains(t, ce.Problem, "no scheme")
	assert.Equal(t, srv.URL+"/v1/traces", ce.Fallback)
	assert.Equal(t, ce.Error(), err.Error())
	endSpans(sdk, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sdk.Shutdown(ctx))
	r := sink.next(t)
	assert.Nil(t, r.TLS)
	assert.Equal(t, "/v1/traces", r.URL.Path)
}

// TestOTLPUnusableValueIsReported: an OTLP value the exporter cannot use is
// reported once through the ErrorHandler and joined into Start's error,
// and the fallback is in effect (OTLP stays on).
func TestOTLPUnusableValueIsReported(t *testing.T) {
	seen := &errorsSeen{}
	cfg := configFromTestEnv(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
	}, seen)
	sdk, err := Start(context.Background(), cfg)
	require.Error(t, err)
	assert.Equal(t, `o11y: config: OTEL_EXPORTER_OTLP_ENDPOINT="ftp://collector:4318": scheme must be http or https; using http://localhost:4318/v1/traces`, err.Error())
	require.Len(t, seen.all(), 1)
	assert.Equal(t, err.Error(), seen.all()[0].Error())
	assert.Equal(t, "http://localhost:4318/v1/traces", otlpExp(t, sdk).Endpoint())
	_ = sdk.Shutdown(context.Background())

	seen = &errorsSeen{}
	cfg = configFromTestEnv(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
		"OTEL_EXPORTER_OTLP_INSECURE": "maybe",
	}, seen)
	sdk, err = Start(context.Background(), cfg)
	require.Error(t, err)
	_ = sdk.Shutdown(context.Background())
	require.Len(t, seen.all(), 1)
	assert.Equal(t, `o11y: config: OTEL_EXPORTER_OTLP_INSECURE="maybe": not a boolean (want true or false); using false`, seen.all()[0].Error())
	assert.Equal(t, seen.all()[0].Error(), err.Error())
}
