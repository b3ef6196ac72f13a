package bench

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	xrayprop "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// variant is one way of serving the same route.
type variant struct {
	name string
	// build returns the handler and a flush function that pushes all pending
	// telemetry out (called inside the timed region).
	build func(tb testing.TB, next http.Handler) (h http.Handler, flush func())
}

// ordersMux is the application: one route with a path parameter.
func ordersMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := strconv.Atoi(id); err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"`+id+`","status":"shipped"}`)
	})
	return mux
}

// alwaysSample makes the X-Ray SDK record every request, like the other variants.
type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

func otelTracerProvider(tb testing.TB, collectorAddr string) *sdktrace.TracerProvider {
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(collectorAddr), otlptracegrpc.WithInsecure())
	if err != nil {
		tb.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(xrayprop.NewIDGenerator()),
		sdktrace.WithBatcher(exp),
	)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	return tp
}

var (
	bareHTTP = variant{"bare", func(tb testing.TB, next http.Handler) (http.Handler, func()) {
		return next, func() {}
	}}
	otelhttpOTLP = variant{"otelhttp-otlp", func(tb testing.TB, next http.Handler) (http.Handler, func()) {
		col := startStandin(tb, "collector")
		tp := otelTracerProvider(tb, col.Addr)
		prop := propagation.NewCompositeTextMapPropagator(xrayprop.Propagator{}, propagation.TraceContext{})
		h := otelhttp.NewHandler(next, "orders", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
		return h, func() { _ = tp.ForceFlush(context.Background()) }
	}}
	xraySDK = variant{"xray-sdk", func(tb testing.TB, next http.Handler) (http.Handler, func()) {
		d := startStandin(tb, "daemon")
		xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
		if err := xray.Configure(xray.Config{DaemonAddr: d.Addr, SamplingStrategy: alwaysSample{}}); err != nil {
			tb.Fatal(err)
		}
		// The X-Ray SDK sends each segment synchronously when it closes, so
		// there is nothing left to flush.
		return xray.Handler(xray.NewFixedSegmentNamer("orders"), next), func() {}
	}}
)
