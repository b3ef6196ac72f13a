package bench

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

// o11ySDK starts an SDK recording every request, with logs and EMF to
// io.Discard and traces to the given exporter settings.
func o11ySDK(tb testing.TB, traces o11y.TracesConfig) *o11y.SDK {
	traces.Sampler = "always_on"
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		Output:                   io.Discard,
		SkipGlobal:               true,
		DisableResourceDetection: true,
		Traces:                   traces,
		Metrics:                  o11y.MetricsConfig{FlushInterval: time.Minute},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.Shutdown(ctx)
	})
	return sdk
}

func o11yDaemonSDK(tb testing.TB) *o11y.SDK {
	d := startStandin(tb, "daemon")
	return o11ySDK(tb, o11y.TracesConfig{Exporter: "xray", DaemonAddress: d.Addr})
}

func o11yOTLPSDK(tb testing.TB) *o11y.SDK {
	col := startStandin(tb, "collector")
	return o11ySDK(tb, o11y.TracesConfig{Exporter: "otlp", OTLPEndpoint: "http://" + col.Addr})
}

func flushSDK(sdk *o11y.SDK) func() {
	return func() { _ = sdk.ForceFlush(context.Background()) }
}

// o11yHTTPVariants are o11y with all three signals: segments to the daemon
// stand-in (or OTLP to the collector stand-in), EMF aggregated, and the access
// log to io.Discard.
func o11yHTTPVariants() []variant {
	return []variant{
		{"o11y-daemon", func(tb testing.TB, next http.Handler) (http.Handler, func()) {
			sdk := o11yDaemonSDK(tb)
			return httpmw.New(sdk)(next), flushSDK(sdk)
		}},
		{"o11y-otlp", func(tb testing.TB, next http.Handler) (http.Handler, func()) {
			sdk := o11yOTLPSDK(tb)
			return httpmw.New(sdk)(next), flushSDK(sdk)
		}},
	}
}

// o11yGRPCVariants are the gRPC equivalents.
func o11yGRPCVariants() []grpcVariant {
	return []grpcVariant{
		{"o11y-daemon", func(tb testing.TB) ([]grpc.ServerOption, func()) {
			sdk := o11yDaemonSDK(tb)
			return grpcmw.ServerOptions(sdk), flushSDK(sdk)
		}},
		{"o11y-otlp", func(tb testing.TB) ([]grpc.ServerOption, func()) {
			sdk := o11yOTLPSDK(tb)
			return grpcmw.ServerOptions(sdk), flushSDK(sdk)
		}},
	}
}
