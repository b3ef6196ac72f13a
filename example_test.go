package o11y_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/tracing"
)

// Start reads nothing by itself: pass ConfigFromEnv() in production, or a
// literal Config. Here traces are not exported (ExporterNone) so the example needs no
// daemon, and logs go to stdout.
func ExampleStart() {
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		DisableResourceDetection: true,
		DisableGlobals:           true,
		Output:                   os.Stdout,
		Traces:                   o11y.TracesConfig{Exporter: o11y.ExporterNone, Sampler: o11y.SamplerAlwaysOn},
		Metrics:                  o11y.MetricsConfig{Disable: true},
	})
	if err != nil {
		fmt.Println("degraded:", err)
	}
	ctx, span := sdk.Tracer().Start(context.Background(), "checkout")
	fmt.Println(len(tracing.XRayTraceID(ctx)), "character X-Ray trace id")
	span.End()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", sdk.Shutdown(shutdownCtx))
	// Output:
	// 35 character X-Ray trace id
	// shutdown: <nil>
}
