// Command otelhttp is the reference for the binary-size comparison: the
// README quick start's service built on the OpenTelemetry SDK directly, with
// otelhttp, X-Ray ids and propagation, and an OTLP/gRPC trace exporter.
package main

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	xrayprop "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	exp, err := otlptracegrpc.New(ctx) // OTEL_EXPORTER_OTLP_* from the environment; dials lazily
	if err != nil {
		log.Print(err)
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		log.Print(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(xrayprop.NewIDGenerator()),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(xrayprop.Propagator{}, propagation.TraceContext{}))
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		span.SetAttributes(attribute.String("order_id", r.PathValue("id")))
		logger.InfoContext(r.Context(), "order read", "trace_id", span.SpanContext().TraceID().String())
		w.Write([]byte(`{"status":"shipped"}`))
	})

	srv := &http.Server{Addr: ":8080", Handler: otelhttp.NewHandler(mux, "orders")}
	go srv.ListenAndServe()
	<-ctx.Done()
	srv.Shutdown(context.Background())
	tp.Shutdown(context.Background())
}
