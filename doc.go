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
//	sdk, err := o11y.Start(ctx, o11y.ConfigFromEnv())
//	if err != nil {
//		log.Print(err) // the SDK still works; the offending part is off
//	}
//	defer sdk.Shutdown(context.Background())
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	http.ListenAndServe(":8080", httpmw.New(sdk)(mux))
//
// [Config]'s zero value works. Environment variables are read in exactly one
// place, [ConfigFromEnv]; the README lists every one.
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
package o11y
