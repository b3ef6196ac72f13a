// Package tracing makes OpenTelemetry traces X-Ray-correct: an X-Ray ID
// generator, a tolerant X-Amzn-Trace-Id propagator, a sampler that
// understands X-Ray's "no decision yet", builders for the OTEL_PROPAGATORS
// and OTEL_TRACES_SAMPLER names, and the span helpers application code
// calls. Spans stay ordinary OTel SDK spans, so every OTel instrumentation
// library (AWS SDK, SQL, HTTP clients) joins the same trace.
//
// The root package o11y wires all of this into the global tracer provider;
// use the pieces directly only when building your own provider:
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithIDGenerator(tracing.NewIDGenerator()),
//		sdktrace.WithSampler(tracing.ParentBased(root)),
//	)
//	otel.SetTextMapPropagator(tracing.NewPropagator()) // xray, tracecontext, baggage
//
// # IDs
//
// [NewIDGenerator] writes the Unix time into the first 4 bytes of each
// trace id (the "1-xxxxxxxx-" of the X-Ray form) and fills the rest from
// the Go runtime's lock-free, kernel-seeded generator. X-Ray also accepts
// fully random W3C ids, so traces started elsewhere are continued as-is.
//
// # The X-Amzn-Trace-Id header
//
// [XRayPropagator] accepts what AWS actually sends: Root-only headers from
// ALB, Self= fields, spaces around ";" and "=", any field order, unknown
// fields (kept and forwarded: Lineage, CalledFrom=app), upper-case hex.
// Field keys are case-sensitive, as in every AWS implementation. Malformed
// or all-zero ids, and values over 1 KiB, are ignored: a new trace starts,
// nothing panics, one rate-limited report goes to the OTel error handler.
// Outbound headers are Root=…;Parent=…;Sampled=1|0 plus the preserved
// fields, never longer than 256 characters.
//
// Sampled=? and a missing Sampled field mean "no decision": the trace id is
// kept and the local sampler decides, which requires [ParentBased] (the
// SDK's own ParentBased would treat such a parent as "not sampled"). A
// Root-only header continues the trace id in a new root span (no parent
// span id exists), which requires [NewIDGenerator].
//
// Servers answer with the decision: [IncomingHeader] + [Header.AppendResponse]
// (what the middleware does) builds the response header
// Root=…[;Parent=…][;Sampled=0|1] the X-Ray SDK returns.
//
// # Propagator order
//
// [NewPropagator] extracts W3C tracecontext first and X-Ray last: with both
// headers present an X-Ray header that has a Parent wins (AWS services
// rewrite it to point at their own segment), a Root-only one does not
// replace a valid traceparent.
//
// # Sampling
//
// [SamplerFromName] maps OTEL_TRACES_SAMPLER names (always_on, always_off,
// traceidratio, parentbased_*, xray) to samplers; every parent-based one is
// [ParentBased]. The ratio samplers decide on the 12 random bytes of the
// trace id, never the timestamp.
//
// # Helpers
//
// [Start], [Annotate], [AddMetadata], [RecordError], [XRayTraceID],
// [SetUser], [Detach] and [Go] take the request context and never fail: without a
// span (or with an unsampled one) they do nothing and cost nothing.
// Annotations are searchable in X-Ray; [Annotate] lists their keys in the
// [AnnotationsKey] span attribute, which the X-Ray exporters read.
package tracing
