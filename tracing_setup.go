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
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithIDGenerator(xray.NewIDGenerator()),
		sdktrace.WithSampler(tempSampler(s.cfg.Traces.Sampler)),
	}
	for _, sp := range s.cfg.Traces.SpanProcessors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	s.sdkTP = tp
	s.tp = tp
	s.tracer = tp.Tracer(InstrumentationName)
	s.propagator = propagation.NewCompositeTextMapPropagator(xray.Propagator{}, propagation.TraceContext{}, propagation.Baggage{})
	s.shutdowns = append(s.shutdowns, namedShutdown{"traces", tp.Shutdown})
	return nil
}

func tempSampler(name string) sdktrace.Sampler {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}
