package o11y

import (
	"context"
	"errors"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/o11y-go/o11y/metrics"
)

// startMetrics builds the EMF recorder and, unless DisableOTelMetrics, the
// OpenTelemetry meter provider exporting into it. It runs after
// startTracing, whose resource the meter provider shares.
func (s *SDK) startMetrics() {
	cfg := s.cfg
	s.recorder = metrics.New(metrics.Options{
		Namespace:            cfg.Metrics.Namespace,
		ServiceName:          cfg.ServiceName,
		ServiceType:          cfg.Metrics.ServiceType,
		Environment:          cfg.Environment,
		Version:              cfg.ServiceVersion,
		FlushInterval:        cfg.Metrics.FlushInterval,
		Writer:               s.lines,
		AgentEndpoint:        cfg.Metrics.AgentEndpoint,
		LogGroupName:         cfg.Metrics.LogGroupName,
		LogStreamName:        cfg.Metrics.LogStreamName,
		DimensionEnvironment: cfg.Metrics.DimensionEnvironment,
		DimensionVersion:     cfg.Metrics.DimensionVersion,
		ErrorHandler:         s.errorHandler("metrics"),
	})
	if !cfg.Metrics.DisableOTelMetrics {
		// The OTel meter provider flushes into the recorder first, so its
		// shutdown must finish before the recorder's final flush.
		s.meterProvider = sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(s.resource),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics.NewExporter(s.recorder),
				sdkmetric.WithInterval(cfg.Metrics.FlushInterval))))
		mp, rec := s.meterProvider, s.recorder
		s.shutdowns = append(s.shutdowns, namedShutdown{"metrics", func(ctx context.Context) error {
			return errors.Join(mp.Shutdown(ctx), rec.Shutdown(ctx))
		}})
	} else {
		s.shutdowns = append(s.shutdowns, namedShutdown{"metrics", s.recorder.Shutdown})
	}
}
