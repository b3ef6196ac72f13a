// Package metrics writes CloudWatch Embedded Metric Format (EMF) documents:
// request metrics aggregated in memory, per-event documents, and the
// instruments of an OpenTelemetry meter provider. The README describes the
// documents (metrics, dimension sets, exemplars); this is how to use them.
//
// The root package builds the [Recorder] (sdk.Metrics()) and the middleware
// feeds it. Record your own operations the same way: take a handle once and
// observe each request; [Operation.Observe] takes no lock and never
// allocates, and the recorder writes one document per operation every
// FlushInterval (60 s, aligned to the wall clock):
//
//	op := sdk.Metrics().Operation("ProcessOrder") // once
//	start := time.Now()
//	err := process(ctx, order)
//	var f metrics.Flags
//	if err != nil {
//		f = metrics.FlagFault
//	}
//	op.Observe(ctx, time.Since(start), f) // the trace id in ctx becomes an exemplar
//
// Past Options.MaxOperations distinct names (200), new names are recorded as
// "other", and this is reported once. A nil *Recorder and a nil *Operation
// are no-ops, so code runs unchanged with metrics off.
//
// For values of your own, [Recorder.Logger] returns an [EventLogger] bound to
// a request, in the style of the aws-embedded-metrics libraries
// (PutMetric, PutDimensions, SetProperty, Flush); its documents carry
// xray_trace_id and request_id. [NewExporter] is the sdkmetric.Exporter the
// root package's meter provider uses, for OTel instruments.
//
// Every document obeys the EMF specification and stays under 16 KiB: the
// encoder splits rather than truncates or writes an invalid line. Bad input
// (NaN, infinities, non-ASCII dimension values, reserved namespaces) is
// sanitised or dropped and reported through Options.ErrorHandler,
// rate-limited; nothing panics. Lines go to Options.Writer (stdout, one
// Write per line) or, with Options.AgentEndpoint, to the CloudWatch agent
// from a bounded background queue that never blocks the caller.
// [Recorder.Shutdown] flushes and drains.
package metrics
