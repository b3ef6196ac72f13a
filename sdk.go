package o11y

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/internal/otlpexport"
	"github.com/o11y-go/o11y/internal/report"
	"github.com/o11y-go/o11y/internal/spanbatch"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// scopeName is the instrumentation scope of [SDK.Tracer]'s spans.
const scopeName = "github.com/o11y-go/o11y"

// SDK is the handle Start returns. It owns the tracer provider, the metrics
// recorder, the logger and the shared line writer. Middleware constructors take
// it; a nil *SDK means [Default].
//
// All methods are safe for concurrent use and safe on a nil receiver.
type SDK struct {
	cfg       Config
	tp        trace.TracerProvider
	sdkTP     *sdktrace.TracerProvider
	resource  *resource.Resource
	xray      *xrayudp.Processor
	otlp      *otlpexport.Abortable
	otlpBatch *spanbatch.Processor
	// meterProvider exports OTel instruments as EMF; nil when off.
	meterProvider *sdkmetric.MeterProvider
	tracer        trace.Tracer
	propagator    propagation.TextMapPropagator
	recorder      *metrics.Recorder
	logHandler    *logging.Handler
	logger        *slog.Logger
	lines         *linewriter.Writer
	ownLines      bool // lines was made by Start (not passed as Config.Output)
	reporter      *report.Reporter

	shutdownOnce sync.Once
	shutdownErr  error
	// shutdowns run in parallel on Shutdown, each under the caller's deadline.
	shutdowns []namedShutdown
}

type namedShutdown struct {
	name string
	fn   func(context.Context) error
}

var defaultSDK atomic.Pointer[SDK]

// Default returns the SDK installed by the last successful [Start], or a
// disabled SDK (no-op tracer, no metrics, logs to stdout) before that. It never
// returns nil.
func Default() *SDK {
	if s := defaultSDK.Load(); s != nil {
		return s
	}
	return disabledSDK()
}

var disabledOnce = sync.OnceValue(func() *SDK {
	lw := linewriter.New(os.Stdout)
	h := logging.NewHandler(lw, nil)
	return &SDK{
		cfg:        Config{Disable: true},
		tp:         noop.NewTracerProvider(),
		tracer:     version.Tracer(noop.NewTracerProvider(), scopeName),
		propagator: tracing.NewPropagator(),
		logHandler: h,
		logger:     slog.New(h),
		lines:      lw,
	}
})

func disabledSDK() *SDK { return disabledOnce() }

// Start sets up tracing, metrics and logging from cfg and installs the result
// as [Default] and as the global OpenTelemetry tracer provider and propagator.
//
// Start never blocks on the network and never fails because a daemon,
// collector or metadata endpoint is unreachable. An unusable configuration
// value (a malformed daemon address, an unknown sampler, a negative flush
// interval) is replaced by its documented fallback and reported once through
// Config.ErrorHandler as a [ConfigError]; the returned error joins the same
// problems, for programs that prefer to refuse to start. Either way the
// returned SDK is usable; it is never nil.
func Start(ctx context.Context, cfg Config) (*SDK, error) {
	handler := cfg.ErrorHandler
	if handler == nil {
		handler = stderrHandler
	}
	reporter := report.New(handler, report.DefaultInterval)
	// Every unusable value is replaced by its fallback and reported once,
	// here, whether or not the caller reads the returned error.
	var errs []error
	for _, e := range append(cfg.envWarnings, cfg.validate()...) {
		reporter.Report(configKey(e), e)
		errs = append(errs, e)
	}
	cfg.envWarnings = nil
	cfg = cfg.withDefaults()
	s := &SDK{cfg: cfg, reporter: reporter}
	if !cfg.DisableGlobals {
		// OpenTelemetry's own errors and log lines go through the same
		// reporter from now on, instead of plain text on stderr.
		installOTelRoute(s.reporter)
	}
	// While the providers are built, the OTel SDK parses variables the
	// validation above has reported already; keep it from repeating them.
	quietEnvErrors.Add(1)
	defer quietEnvErrors.Add(-1)

	if cfg.Output == nil {
		cfg.Output = os.Stdout
		s.cfg.Output = os.Stdout // what SDK.Config() reports
	}
	if lw, ok := cfg.Output.(*linewriter.Writer); ok {
		s.lines = lw
	} else {
		s.lines = linewriter.NewBatched(cfg.Output, linewriter.Options{
			FlushInterval: logFlushInterval(cfg.Logs.FlushInterval, cfg.Output),
			Report:        func(key string, err error) { s.reporter.Report(key, wrapReport("output", err)) },
		})
		s.ownLines = true
	}

	// Logging first, so the other signals can report through it.
	s.startLogs()

	if cfg.Disable {
		s.tp = noop.NewTracerProvider()
		s.tracer = version.Tracer(s.tp, scopeName)
		// Disabled tracing still forwards incoming trace context downstream.
		s.propagator = tracing.NewPropagator()
		if !cfg.DisableGlobals {
			defaultSDK.Store(s)
		}
		return s, errors.Join(errs...)
	}

	// startTracing reports each of its problems itself.
	errs = append(errs, s.startTracing(ctx)...)

	if !cfg.Metrics.Disable {
		s.startMetrics()
	}

	if !cfg.DisableGlobals {
		if cfg.Logs.SetDefault {
			slog.SetDefault(s.logger)
		}
		otel.SetTracerProvider(s.tp)
		otel.SetTextMapPropagator(s.propagator)
		if s.meterProvider != nil {
			otel.SetMeterProvider(s.meterProvider)
		}
		defaultSDK.Store(s)
	}
	return s, errors.Join(errs...)
}

// logFlushInterval is the batching window of the line writer Start makes
// (0: synchronous); see LogsConfig.FlushInterval.
func logFlushInterval(d time.Duration, out io.Writer) time.Duration {
	switch {
	case d < 0:
		return 0
	case d > 0:
		return d
	}
	if _, ok := out.(*os.File); ok {
		return defaultLogFlush
	}
	return 0
}

// Shutdown flushes every signal in parallel and stops background work. It
// returns when all are done or ctx expires, whichever is first, with an error
// naming what could not be flushed. Calling it again returns the first result.
func (s *SDK) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *SDK) shutdown(ctx context.Context) error {
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(s.shutdowns))
	for _, sd := range s.shutdowns {
		go func() { results <- result{sd.name, sd.fn(ctx)} }()
	}
	var errs []error
	pending := map[string]bool{}
	for _, sd := range s.shutdowns {
		pending[sd.name] = true
	}
	for range s.shutdowns {
		select {
		case r := <-results:
			delete(pending, r.name)
			if r.err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.name, r.err))
			}
		case <-ctx.Done():
			for name := range pending {
				errs = append(errs, fmt.Errorf("%s: not flushed: %w", name, ctx.Err()))
			}
			if err := s.closeLines(ctx); err != nil {
				errs = append(errs, fmt.Errorf("output: %w", err))
			}
			return errors.Join(errs...)
		}
	}
	// Last: the final EMF documents are in the buffer now.
	if err := s.closeLines(ctx); err != nil {
		errs = append(errs, fmt.Errorf("output: not flushed: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("o11y: shutdown: %w", errors.Join(errs...))
	}
	return nil
}

// closeLines writes the buffered lines (bounded by ctx) and, for the line
// writer Start made, turns it synchronous: lines logged after Shutdown are
// not left in a buffer the exiting process never flushes.
func (s *SDK) closeLines(ctx context.Context) error {
	var err error
	if s.ownLines {
		err = s.lines.Close(ctx)
	} else {
		err = s.lines.Flush(ctx)
	}
	_ = s.lines.Sync()
	return err
}

// ForceFlush exports every ended span and writes every pending metric
// aggregate now, without stopping anything. It returns by ctx's deadline.
func (s *SDK) ForceFlush(ctx context.Context) error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.sdkTP != nil {
		if err := s.sdkTP.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("traces: %w", err))
		}
	}
	if s.meterProvider != nil {
		if err := s.meterProvider.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("otel metrics: %w", err))
		}
	}
	if s.recorder != nil {
		if err := s.recorder.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
		}
	}
	if s.lines != nil {
		if err := s.lines.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("output: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Config returns the effective configuration (defaults applied).
func (s *SDK) Config() Config {
	if s == nil {
		return Default().cfg
	}
	return s.cfg
}

// ServiceName returns the configured service name.
func (s *SDK) ServiceName() string { return s.orDefault().cfg.ServiceName }

// TracerProvider returns the SDK's tracer provider.
func (s *SDK) TracerProvider() trace.TracerProvider { return s.orDefault().tp }

// Tracer returns a tracer of the SDK's provider with the instrumentation
// scope "github.com/o11y-go/o11y" at this module's version. (The
// middleware packages use their own scopes, named after their import paths.)
func (s *SDK) Tracer() trace.Tracer { return s.orDefault().tracer }

// Propagator returns the configured propagator (X-Amzn-Trace-Id, W3C
// tracecontext and baggage by default).
func (s *SDK) Propagator() propagation.TextMapPropagator { return s.orDefault().propagator }

// Metrics returns the request-metrics recorder, or nil when metrics are off
// (a nil *metrics.Recorder is safe to use).
func (s *SDK) Metrics() *metrics.Recorder { return s.orDefault().recorder }

// MeterProvider returns the OpenTelemetry meter provider whose instruments
// are exported as EMF, or a no-op provider when metrics are off.
func (s *SDK) MeterProvider() metric.MeterProvider {
	if mp := s.orDefault().meterProvider; mp != nil {
		return mp
	}
	return metricnoop.NewMeterProvider()
}

// Stats are the SDK's own counters: what it dropped and why.
type Stats struct {
	// SpansSent counts segments sent to the X-Ray daemon. SpansDropped
	// counts spans dropped because the export queue (X-Ray or OTLP) was
	// full or the SDK was shutting down.
	SpansSent, SpansDropped uint64
	// SpanSendErrors counts datagrams the socket refused.
	SpanSendErrors uint64
	// SegmentsTrimmed counts documents trimmed to fit 64 KiB.
	SegmentsTrimmed uint64
	// DaemonDrops counts datagrams the X-Ray daemon's socket dropped
	// because its receive buffer was full (sent by anyone), since the SDK
	// first saw the socket. The sender paces so that it stays 0. It is
	// known only where the daemon's socket is visible (Linux, same network
	// namespace: an ECS sidecar, or both on the host network); elsewhere it
	// stays 0.
	DaemonDrops uint64
	// OTLPSpansExported and OTLPSpansFailed count spans the OTLP exporter
	// delivered and spans in exports that failed (after its retries) or
	// that the collector rejected (partial success).
	OTLPSpansExported, OTLPSpansFailed uint64
	// Reports counts problems reported to the ErrorHandler, including
	// the rate-limited ones that were not forwarded.
	Reports uint64
	// LinesDropped counts log lines and EMF documents that never reached
	// Output: dropped because the line buffer was full and Output made no
	// progress for a second, or part of a batched write that failed.
	// LineWriteErrors counts the writes to Output that failed.
	LinesDropped, LineWriteErrors uint64
}

// Stats returns the SDK's counters.
func (s *SDK) Stats() Stats {
	s = s.orDefault()
	var st Stats
	if s.xray != nil {
		x := s.xray.Stats()
		st.SpansSent, st.SpansDropped, st.SpanSendErrors, st.SegmentsTrimmed = x.Sent, x.Dropped, x.Errors, x.Trimmed
		st.DaemonDrops = x.DaemonDrops
	}
	if s.otlp != nil {
		st.OTLPSpansExported, st.OTLPSpansFailed = s.otlp.Exported(), s.otlp.Failed()
		st.SpansDropped += s.otlpBatch.Dropped()
	}
	st.Reports = s.reporter.Total()
	if s.lines != nil {
		st.LinesDropped, st.LineWriteErrors = s.lines.Dropped(), s.lines.Errors()
	}
	return st
}

// Logger returns the SDK's logger.
func (s *SDK) Logger() *slog.Logger { return s.orDefault().logger }

// LogHandler returns the SDK's slog handler.
func (s *SDK) LogHandler() *logging.Handler { return s.orDefault().logHandler }

// Output returns the shared line writer logs and EMF are written through
// (batched as Config.Logs.FlushInterval says: write whole lines to it).
func (s *SDK) Output() io.Writer { return s.orDefault().lines }

func (s *SDK) orDefault() *SDK {
	if s == nil {
		return Default()
	}
	return s
}
