package o11y

import (
	"bytes"
	"context"
	"encoding/json"
	"go.opentelemetry.io/otel/attribute"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/o11y-go/o11y/metrics"
)

// errorsSeen collects ErrorHandler calls.
type errorsSeen struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorsSeen) handle(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
func (e *errorsSeen) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func baseConfig(out *bytes.Buffer, seen *errorsSeen) Config {
	return Config{
		ServiceName:              "orders",
		Output:                   out,
		DisableGlobals:           true,
		DisableResourceDetection: true,
		ErrorHandler:             seen.handle,
		Traces:                   TracesConfig{Sampler: "always_on"},
		Metrics:                  MetricsConfig{FlushInterval: time.Hour},
	}
}

func TestStartSendsSegmentsToDaemonAndShutdownFlushes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer daemon.Close()

	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.DaemonAddress = daemon.LocalAddr().String()
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)

	ctx, span := sdk.Tracer().Start(context.Background(), "GET /orders/{id}", trace.WithSpanKind(trace.SpanKindServer))
	sdk.Logger().InfoContext(ctx, "hello")
	sdk.Metrics().Operation("GET /orders/{id}").Observe(ctx, 12*time.Millisecond, 0)
	span.End()

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, sdk.Shutdown(sctx))

	// The segment reached the daemon.
	require.NoError(t, daemon.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 65536)
	n, _, err := daemon.ReadFromUDP(buf)
	require.NoError(t, err)
	header, body, ok := bytes.Cut(buf[:n], []byte("\n"))
	require.True(t, ok)
	assert.JSONEq(t, `{"format": "json", "version": 1}`, string(header))
	var seg map[string]any
	require.NoError(t, json.Unmarshal(body, &seg))
	assert.Equal(t, "orders", seg["name"])
	xrayID := seg["trace_id"].(string)

	// The log line and the EMF document share the X-Ray trace id.
	var sawLog, sawEMF bool
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "line %q", line)
		if _, ok := m["_aws"]; ok {
			sawEMF = true
			continue
		}
		if m["msg"] == "hello" {
			sawLog = true
			assert.Equal(t, xrayID, m["xray_trace_id"])
		}
	}
	assert.True(t, sawLog, "log line missing in %s", out.String())
	assert.True(t, sawEMF, "EMF document missing: Shutdown must flush metrics")
	assert.Empty(t, seen.all())
}

func TestStartNeverBlocksOnUnreachableCollector(t *testing.T) {
	// A TCP listener that accepts and never answers: the worst collector.
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer blackhole.Close()
	go func() {
		for {
			c, err := blackhole.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, proto := range []string{"grpc", "http/protobuf"} {
		t.Run(proto, func(t *testing.T) {
			var out bytes.Buffer
			seen := &errorsSeen{}
			cfg := baseConfig(&out, seen)
			cfg.Traces.OTLPEndpoint = "http://" + blackhole.Addr().String()
			cfg.Traces.OTLPProtocol = OTLPProtocol(proto)
			// The exporter's own timeouts are an hour, so a Start or
			// Shutdown that waited on the collector would take that long;
			// the bounds below are generous enough for a loaded machine
			// and still far from it.
			cfg.getenv = func(k string) string {
				if k == "OTEL_EXPORTER_OTLP_TIMEOUT" || k == "OTEL_BSP_EXPORT_TIMEOUT" {
					return "3600000"
				}
				return ""
			}
			start := time.Now()
			sdk, err := Start(context.Background(), cfg)
			require.NoError(t, err)
			assert.Less(t, time.Since(start), 20*time.Second, "Start blocked on the collector")

			_, span := sdk.Tracer().Start(context.Background(), "op")
			span.End()

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start = time.Now()
			err = sdk.Shutdown(ctx)
			assert.Less(t, time.Since(start), 20*time.Second, "Shutdown ignored its deadline")
			require.Error(t, err, "an unflushed span must be reported")
			assert.Contains(t, err.Error(), "traces")
		})
	}
}

func TestStartWithBadDaemonAddressStillWorks(t *testing.T) {
	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.DaemonAddress = "udp:127.0.0.1:2000" // the double form needs both halves
	sdk, err := Start(context.Background(), cfg)
	require.Error(t, err)
	require.NotNil(t, sdk)
	ctx, span := sdk.Tracer().Start(context.Background(), "op")
	sdk.Logger().InfoContext(ctx, "still logging")
	span.End()
	assert.Contains(t, out.String(), "still logging")
	require.NoError(t, sdk.Shutdown(context.Background()))
}

func TestStartDaemonAbsentIsSilentForTheApp(t *testing.T) {
	// Reserve a port and close it, so nothing listens there.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	addr := c.LocalAddr().String()
	c.Close()

	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.DaemonAddress = addr
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	for range 200 {
		_, span := sdk.Tracer().Start(context.Background(), "op")
		span.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = sdk.Shutdown(ctx)
	assert.LessOrEqual(t, len(seen.all()), 3, "failures must be rate-limited, not one per span: %v", seen.all())
}

func TestDisabled(t *testing.T) {
	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Disable = true
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	_, span := sdk.Tracer().Start(context.Background(), "op")
	assert.False(t, span.IsRecording())
	var rec *metrics.Recorder = sdk.Metrics()
	assert.Nil(t, rec, "no metrics")
	rec.Operation("x").Observe(context.Background(), time.Millisecond, metrics.FlagFault) // nil-safe
	// Log lines are the application's output, not an exported signal: they
	// stay (README, OTEL_SDK_DISABLED row).
	sdk.Logger().Info("still logging")
	require.NoError(t, sdk.Shutdown(context.Background()))
	assert.Contains(t, out.String(), `"msg":"still logging"`)
	assert.NotContains(t, out.String(), `"_aws"`, "no EMF")
}

func TestDefaultIsNeverNil(t *testing.T) {
	var s *SDK
	assert.NotNil(t, s.Tracer())
	assert.NotNil(t, s.Logger())
	assert.NotNil(t, s.Propagator())
	assert.NoError(t, s.Shutdown(context.Background()))
	assert.NotNil(t, Default())
}

func TestShutdownTwiceReturnsFirstResult(t *testing.T) {
	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.Exporter = "none"
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, sdk.Shutdown(context.Background()))
	require.NoError(t, sdk.Shutdown(context.Background()))
}

func TestEnvWarningsAreReported(t *testing.T) {
	c, warns := configFromLookup(lookupFrom(map[string]string{"O11Y_LOG_LEVEL": "loud"}))
	require.Len(t, warns, 1)
	c.envWarnings = warns
	var out bytes.Buffer
	seen := &errorsSeen{}
	base := baseConfig(&out, seen)
	c.Output, c.DisableGlobals, c.ErrorHandler, c.DisableResourceDetection = base.Output, true, seen.handle, true
	c.Traces.Exporter = "none"
	sdk, err := Start(context.Background(), c)
	require.Error(t, err, "Start's error carries the same problem")
	defer sdk.Shutdown(context.Background())
	require.Len(t, seen.all(), 1)
	assert.Equal(t, err.Error(), seen.all()[0].Error())
	assert.True(t, strings.Contains(seen.all()[0].Error(), "O11Y_LOG_LEVEL"))
}

func TestShutdownAbortsExportToRefusingCollector(t *testing.T) {
	addr := refusingTCPAddr(t) // the collector refuses every connection

	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.OTLPEndpoint = "http://" + addr
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	for range 10 {
		_, span := sdk.Tracer().Start(context.Background(), "op")
		span.End()
	}
	// Shutdown exports the queued spans; against a refusing collector the
	// exporter retries with backoff far beyond the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.Error(t, sdk.Shutdown(ctx))
	st := sdk.Stats()
	assert.Zero(t, st.OTLPSpansExported)
	// goleak.VerifyNone (deferred) retries for a few seconds: the export
	// goroutines must be gone by then, not after the exporter's own timeout.
}

// TestShutdownWithExpiredContextStopsProcessors: the tracer provider skips
// its processors when the context has already ended; the SDK must still
// stop its own (X-Ray and OTLP), or their goroutines outlive Shutdown.
func TestShutdownWithExpiredContextStopsProcessors(t *testing.T) {
	for _, exporter := range []string{"xray", "otlp"} {
		t.Run(exporter, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			var out bytes.Buffer
			cfg := baseConfig(&out, &errorsSeen{})
			cfg.Traces.Exporter = Exporter(exporter)
			cfg.Traces.DaemonAddress = "127.0.0.1:9" // discard port: nothing listens
			cfg.Traces.OTLPEndpoint = "http://" + refusingTCPAddr(t)
			sdk, err := Start(context.Background(), cfg)
			require.NoError(t, err)
			for range 5 {
				_, span := sdk.Tracer().Start(context.Background(), "op")
				span.End()
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			assert.Error(t, sdk.Shutdown(ctx))
		})
	}
}

func TestOTLPFailuresReachTheErrorHandler(t *testing.T) {
	addr := refusingTCPAddr(t)

	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.OTLPEndpoint = "http://" + addr
	cfg.Traces.OTLPProtocol = "http/protobuf"
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	for range 5 {
		_, span := sdk.Tracer().Start(context.Background(), "op")
		span.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = sdk.ForceFlush(ctx)
	_ = sdk.Shutdown(ctx)
	// The exporter is still retrying (backoff 0.5 s, 1 s, 2 s, …) when the
	// deadline passes; Shutdown then aborts it, and the aborted export is
	// counted as failed moments later (Shutdown itself returns at the
	// deadline, not after the background goroutine).
	require.Eventually(t, func() bool {
		st := sdk.Stats()
		return st.OTLPSpansFailed+st.OTLPSpansExported == 5
	}, 10*time.Second, 5*time.Millisecond, "stats: %+v", sdk.Stats())
	assert.Zero(t, sdk.Stats().OTLPSpansExported)
	require.Eventually(t, func() bool { return len(seen.all()) > 0 }, 10*time.Second, 5*time.Millisecond)
	assert.Contains(t, seen.all()[0].Error(), "OTLP export")
}

func TestHugeAttributeValuesAreCut(t *testing.T) {
	var out bytes.Buffer
	seen := &errorsSeen{}
	cfg := baseConfig(&out, seen)
	cfg.Traces.Exporter = "none"
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	defer sdk.Shutdown(context.Background())
	_, span := sdk.Tracer().Start(context.Background(), "op")
	span.SetAttributes(attribute.String("big", strings.Repeat("x", 1<<20)))
	ro := span.(interface{ Attributes() []attribute.KeyValue })
	assert.Len(t, ro.Attributes()[0].Value.AsString(), 8192)
	span.End()
}

// refusingTCPAddr returns a loopback address nothing listens on: a port
// reserved and released, so connections to it are refused.
func refusingTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestStatsDaemonDrops: what the daemon's own socket drops (its receive
// buffer full, here filled by another sender) shows in Stats.DaemonDrops.
func TestStatsDaemonDrops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the daemon socket's drops are read through sock_diag, Linux-only")
	}
	// A daemon that never reads, with the kernel-default receive buffer.
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer daemon.Close()
	cfg := baseConfig(&bytes.Buffer{}, &errorsSeen{})
	cfg.Traces.Exporter = ExporterXRay
	cfg.Traces.DaemonAddress = daemon.LocalAddr().String()
	sdk, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.Shutdown(ctx)
	}()
	span := func() {
		_, sp := sdk.Tracer().Start(context.Background(), "op")
		sp.End()
	}
	// The first datagram: the exporter has seen the socket (no drops yet).
	span()
	require.Eventually(t, func() bool { return sdk.Stats().SpansSent == 1 }, 10*time.Second, 5*time.Millisecond)
	assert.Zero(t, sdk.Stats().DaemonDrops)

	// Another sender overruns the buffer: 256 datagrams of 60,000 bytes
	// (15 MB) are far more than a default buffer holds.
	other, err := net.DialUDP("udp", nil, daemon.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer other.Close()
	const flood = 256
	for range flood {
		_, err := other.Write(make([]byte, 60000))
		require.NoError(t, err)
	}
	// Spans sent after it: once they have used the room the last look
	// allowed, the exporter looks at the socket again (and, finding it
	// full, gives up after a while, dropping and counting those spans).
	const after = 200
	for range after {
		span()
	}
	require.Eventually(t, func() bool { return sdk.Stats().DaemonDrops > 0 }, 10*time.Second, 5*time.Millisecond,
		"stats: %+v", sdk.Stats())
	st := sdk.Stats()
	// The flood, and the spans sent into the full buffer before the look.
	assert.LessOrEqual(t, st.DaemonDrops, uint64(flood+after), "%+v", st)
}
