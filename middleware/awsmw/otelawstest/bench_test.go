package otelawstest

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/middleware/awsmw/internal/awscalls"
)

// BenchmarkGetItem is one DynamoDB GetItem against the loopback fake,
// traced by each wiring (spans recorded in memory): what tracing costs the
// calling goroutine, in allocations and bytes (deterministic) and time
// (noisy on a shared machine). "none" is the untraced baseline.
func BenchmarkGetItem(b *testing.B) {
	f := awsfake.New(b)
	httpClient := awshttp.NewBuildableClient()
	for _, w := range []struct {
		name  string
		wire  func(*aws.Config, trace.TracerProvider)
		spans int
	}{
		{"none", func(*aws.Config, trace.TracerProvider) {}, 0},
		{"awsmw", func(cfg *aws.Config, tp trace.TracerProvider) { awsmw.Instrument(cfg, awsmw.WithTracerProvider(tp)) }, 1},
		{"otelaws", withOtelaws, 1},
		{"smithyoteltracing", func(cfg *aws.Config, tp trace.TracerProvider) {
			stp := smithyoteltracing.Adapt(tp)
			cfg.ServiceOptions = append(cfg.ServiceOptions, func(_ string, o any) {
				reflect.ValueOf(o).Elem().FieldByName("TracerProvider").Set(reflect.ValueOf(stp))
			})
		}, 11},
	} {
		b.Run(w.name, func(b *testing.B) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			cfg := awscalls.Config(f.URL)
			cfg.HTTPClient = httpClient // one connection pool for every client the loop makes
			w.wire(&cfg, tp)
			call := awscalls.GetItem("orders")
			ctx := context.Background()
			if err := call(ctx, cfg); err != nil {
				b.Fatal(err)
			}
			if got := len(rec.Ended()); got != w.spans {
				b.Fatalf("%d spans per call, want %d", got, w.spans)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := call(ctx, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
