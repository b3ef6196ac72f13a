// Package metrics writes CloudWatch Embedded Metric Format (EMF) documents:
// request metrics aggregated in memory, per-event documents, and metrics from
// OpenTelemetry instruments — all valid on the wire, cheap on the request
// path and linked to X-Ray traces.
//
// # Request metrics
//
// A [Recorder] keeps, per operation (span name such as "GET /orders/{id}"),
// the metrics Latency (Milliseconds), Error and Fault (Count) between
// flushes. [Operation.Observe] never allocates and takes no lock: it adds to
// atomic counters and a fixed log-linear bucket array. Every
// FlushInterval (60 s by default, aligned to wall-clock multiples of the
// interval) the recorder writes one document per operation that saw traffic:
//
//   - Latency as a {Values,Counts,Max,Min,Count,Sum} distribution: each
//     bucket is published as its midpoint, within 1.6 % of any latency it
//     holds (0.5 µs below 64 µs); Min, Max, Count and Sum are exact, so
//     CloudWatch percentiles are accurate to 1.6 % and averages exactly. A
//     distribution with more than 100 distinct values is split over several
//     documents, each part carrying its own Count, Min, Max and share of Sum.
//   - Error and Fault as {Values:[0,1],Counts:[n-k,k]}: SampleCount is the
//     request count, Sum the number of errors (4xx and throttles) or faults
//     (5xx), and Average the error or fault rate.
//   - Dimension sets [Service, Operation] and [Service]; [Service,
//     Environment] and [Service, Version] only when enabled in [Options].
//     Everything else (ServiceType, Environment, Version when not a
//     dimension) is a property: searchable in Logs Insights, not billed.
//   - Exemplars, as properties: slowest_xray_trace_id and slowest_latency_ms
//     (the slowest sampled request of the interval, else the slowest one
//     with a trace id) and fault_xray_trace_id (one faulting request,
//     sampled preferred), in X-Ray form "1-5759e988-bd862e3fe1be46a994272793",
//     so a metric spike leads straight to a trace and its log lines.
//
// Past MaxOperations distinct names (default 200), new names are recorded
// under Operation "other" and this is reported once.
//
// # Per-event documents
//
// [Recorder.Logger] returns an [EventLogger] bound to a request: PutMetric,
// PutDimensions, SetProperty and Flush, in the style of the official
// aws-embedded-metrics libraries and Powertools. Its documents carry
// xray_trace_id and request_id as properties.
//
// # OpenTelemetry
//
// [NewExporter] returns an sdkmetric.Exporter that sends OTel counters,
// up-down counters, gauges and histograms through the same encoder, so
// metrics of OTel instrumentation libraries reach CloudWatch without a
// collector.
//
// # Validity
//
// Every document obeys the EMF specification: the 27 units, an integer
// millisecond Timestamp, StorageResolution 1 or 60, at most 100 metrics per
// directive, 100 values per metric and 30 keys per dimension set, dimension
// values of 1–1024 printable ASCII characters, valid namespaces and names,
// and every line shorter than 16 KiB. When a limit would be crossed the
// encoder splits into more documents; it never writes an invalid one. Bad
// input (NaN, ±Inf, non-ASCII dimension values, reserved namespaces, name
// collisions) is sanitised or dropped and reported through
// Options.ErrorHandler, rate-limited per kind; nothing panics. EventLogger
// methods also return the problem as an error the caller may ignore.
//
// # Sinks
//
// Lines go to Options.Writer (stdout by default: ECS awslogs and App Runner
// extract EMF from stdout), each with exactly one Write call; the SDK passes
// the line writer it shares with the log handler so lines never interleave.
// With Options.AgentEndpoint ("tcp://127.0.0.1:25888" or "udp://…") lines
// go to the CloudWatch agent from a background goroutine with a bounded
// queue, reconnecting with backoff, never blocking the caller; documents
// then carry _aws.LogGroupName (default "<service>-metrics") and
// LogStreamName. A writer that fails keeps up to 1 MiB of lines for the
// next flush. [Recorder.Shutdown] flushes and drains.
package metrics
