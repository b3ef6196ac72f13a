// Package tracing makes OpenTelemetry traces X-Ray-correct, and gives
// application code span helpers that never fail. Spans stay ordinary OTel
// SDK spans, so every OTel instrumentation library joins the same trace.
// The README describes the header and id rules.
//
// The helpers take the request context: without a span, or with an
// unsampled one, they do nothing and cost nothing.
//
//	ctx, span := tracing.Start(ctx, "charge card")
//	defer span.End()
//	tracing.Annotate(ctx, "customer_tier", "gold") // searchable in X-Ray
//	tracing.RecordError(ctx, err)
//
// [Start], [Annotate], [AddMetadata], [RecordError], [SetUser],
// [XRayTraceID], [Detach] and [Go] cover what X-Ray's SDK offered;
// [Annotate] lists annotation keys in the [AnnotationsKey] attribute that
// the X-Ray exporters read.
//
// The root package wires the rest into its tracer provider; use it
// directly only with a provider of your own:
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithIDGenerator(tracing.NewIDGenerator()),
//		sdktrace.WithSampler(tracing.ParentBased(root)),
//	)
//	otel.SetTextMapPropagator(tracing.NewPropagator()) // xray, tracecontext, baggage
//
// [NewIDGenerator] gives X-Ray trace ids (Unix time first) and continues a
// Root-only X-Amzn-Trace-Id in a new root span. [XRayPropagator] reads the
// header as AWS sends it and marks Sampled=? or a missing Sampled as "no
// decision", which [ParentBased] (unlike sdktrace.ParentBased) hands to
// the root sampler. [NewPropagator] and [ParsePropagators] build the
// OTEL_PROPAGATORS list, [SamplerFromName] the OTEL_TRACES_SAMPLER one.
// Servers answer with the decision through [IncomingHeader] and
// [Header.AppendResponse], as the middleware does.
package tracing
