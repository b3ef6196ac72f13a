// Package o11y gives a Go service on AWS (ECS on Fargate or EC2, App Runner,
// EKS, EC2) production observability in a few lines: X-Ray-compatible traces
// on the OpenTelemetry SDK, CloudWatch EMF metrics and structured JSON logs on
// log/slog, sharing correlation ids so one X-Ray trace id finds the segment,
// the log lines and the metric exemplar.
//
// # Setup
//
// One call reads the environment and starts every signal; one call flushes
// them all:
//
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
//	defer stop()
//	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv()) // problems: reported on stderr, defaults used
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	srv := &http.Server{Addr: ":8080", Handler: httpmw.New(sdk)(mux)}
//	go srv.ListenAndServe()
//	<-ctx.Done()
//
//	// ECS kills the task 30 s after SIGTERM: 20 s to drain, 5 s to flush.
//	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 20*time.Second)
//	defer cancelDrain()
//	srv.Shutdown(drainCtx)
//	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 5*time.Second)
//	defer cancelFlush()
//	sdk.Shutdown(flushCtx) // returns by the deadline, collector up or not
//
// Always give Shutdown a deadline: with context.Background() and a collector
// that refuses connections, it waits for the exporter's retries (seconds).
//
// [Config]'s zero value works. [ConfigFromEnv] reads the environment; the
// only other variables read are the OTLP exporter's standard
// OTEL_EXPORTER_OTLP_* and OTEL_BSP_* ones (for settings Config leaves
// empty) and the platform's own, during resource detection. The README
// lists every one.
//
// # Configuration errors
//
// An unusable value (from the environment or from code) never turns a signal
// off silently: Start replaces it by its documented fallback and reports it
// once through Config.ErrorHandler as a [ConfigError], whether or not the
// caller reads Start's error (which joins the same problems). The default
// handler writes one JSON line per problem on stderr:
//
//	{"time":"…","level":"WARN","logger":"o11y","msg":"o11y: config: AWS_XRAY_DAEMON_ADDRESS=\"garbage\": not \"host:port\" or …; using 127.0.0.1:2000","variable":"AWS_XRAY_DAEMON_ADDRESS","value":"garbage","fallback":"127.0.0.1:2000"}
//
// Runtime problems (export failures, dropped data) use the same line with
// "msg":"o11y: <component>: …" and "component". Unless DisableGlobals is set,
// Start also routes OpenTelemetry's own error handler and internal logger
// there, so no dependency prints plain-text lines.
//
// # What Start does
//
//   - Traces: an OpenTelemetry SDK tracer provider with X-Ray trace ids,
//     a tolerant X-Amzn-Trace-Id propagator composed with W3C tracecontext
//     and baggage, X-Ray sampling rules (1 request/s + 5 % by default), a
//     detected AWS resource, and an exporter: the X-Ray daemon over UDP
//     (default, 127.0.0.1:2000) or OTLP. It is installed as the OpenTelemetry
//     global so third-party instrumentation joins the same traces.
//   - Metrics: an EMF recorder that aggregates request metrics (Latency,
//     Error, Fault) and flushes them every minute to stdout or the CloudWatch
//     agent.
//   - Logs: a slog handler writing one JSON object per line with
//     xray_trace_id, trace_id, span_id and request_id taken from the context.
//
// Logs and EMF share one line writer, so lines never interleave.
//
// # Failure behaviour
//
// Start never blocks on the network and never fails because a daemon,
// collector or metadata endpoint is unreachable. Exporters drop and count
// under overload instead of blocking the request; their problems reach
// Config.ErrorHandler at most once a minute per kind. [SDK.Shutdown] flushes
// every signal in parallel and returns by the context deadline.
//
// OTEL_SDK_DISABLED=true ([Config].Disable) turns off what OpenTelemetry
// would produce: no spans are recorded or exported and no metrics are
// written (incoming trace context is still forwarded). Log lines, access
// lines included, are still written: they are the application's own output,
// not an exported signal (O11Y_LOG_LEVEL and O11Y_ACCESS_LOG turn them down).
package o11y
