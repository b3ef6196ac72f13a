package o11y

import (
	"context"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// startTracing builds the tracer provider. TEMPORARY wiring on upstream pieces
// until the tracing package lands.
func (s *SDK) startTracing(ctx context.Context) error {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(xray.NewIDGenerator()),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	)
	s.sdkTP = tp
	s.tp = tp
	s.tracer = tp.Tracer(InstrumentationName)
	s.propagator = propagation.NewCompositeTextMapPropagator(xray.Propagator{}, propagation.TraceContext{}, propagation.Baggage{})
	s.shutdowns = append(s.shutdowns, namedShutdown{"traces", tp.Shutdown})
	return nil
}
