package bench

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

// o11ySDK starts an SDK recording every request, with logs and EMF to a
// pipe drained by another process (as a container's stdout is read by its
// log driver: the write(2) is charged, the reader is not) and traces to the
// given exporter settings.
func o11ySDK(tb testing.TB, traces o11y.TracesConfig) *o11y.SDK {
	traces.Sampler = "always_on"
	traces.QueueSize = queueSize
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		Output:                   stdoutPipe(tb),
		DisableGlobals:           true,
		DisableResourceDetection: true,
		Traces:                   traces,
		Metrics:                  o11y.MetricsConfig{FlushInterval: time.Minute},
		Logs:                     o11y.LogsConfig{FlushInterval: benchLogFlush(tb)},
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

// benchLogFlush is Config.Logs.FlushInterval for the o11y variants:
// BENCH_LOG_FLUSH_INTERVAL (a duration; "sync" for one write per line),
// else the SDK's default.
func benchLogFlush(tb testing.TB) time.Duration {
	switch v := os.Getenv("BENCH_LOG_FLUSH_INTERVAL"); v {
	case "":
		return 0
	case "sync", "0":
		return -1
	default:
		d, err := time.ParseDuration(v)
		if err != nil {
			tb.Fatalf("BENCH_LOG_FLUSH_INTERVAL: %v", err)
		}
		return d
	}
}

// stdoutPipe returns the write end of a pipe that a child process (cat,
// output to /dev/null) drains; it is closed and the child waited for when
// the test ends, after the SDK's Shutdown.
func stdoutPipe(tb testing.TB) *os.File {
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("cat")
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		tb.Fatalf("log drain: %v", err)
	}
	_ = r.Close()
	tb.Cleanup(func() {
		_ = w.Close()
		_ = cmd.Wait()
	})
	return w
}

func o11yDaemonSDK(tb testing.TB) (*o11y.SDK, *export) {
	d := startStandin(tb, daemonKind)
	sdk := o11ySDK(tb, o11y.TracesConfig{Exporter: "xray", DaemonAddress: d.Addr})
	return sdk, sdkExport(sdk, d)
}

func o11yOTLPSDK(tb testing.TB) (*o11y.SDK, *export) {
	col := startStandin(tb, "collector")
	sdk := o11ySDK(tb, o11y.TracesConfig{Exporter: "otlp", OTLPEndpoint: "http://" + col.Addr})
	return sdk, sdkExport(sdk, col)
}

// sdkExport flushes every signal and reads the SDK's drop counter (which
// counts the daemon exporter's queue drops; OTLP drops show as lost/op).
func sdkExport(sdk *o11y.SDK, sink *standin) *export {
	return &export{
		flush:   func() { _ = sdk.ForceFlush(context.Background()) },
		sink:    sink,
		dropped: func() uint64 { return sdk.Stats().SpansDropped },
	}
}

// o11yHTTPVariants are o11y with all three signals: segments to the daemon
// stand-in (or OTLP to the collector stand-in), EMF aggregated, and the access
// log to a drained pipe.
func o11yHTTPVariants() []variant {
	return []variant{
		{"o11y-daemon", func(tb testing.TB, next http.Handler) (http.Handler, *export) {
			sdk, e := o11yDaemonSDK(tb)
			return httpmw.New(sdk)(next), e
		}},
		{"o11y-otlp", func(tb testing.TB, next http.Handler) (http.Handler, *export) {
			sdk, e := o11yOTLPSDK(tb)
			return httpmw.New(sdk)(next), e
		}},
	}
}

// o11yGRPCVariants are the gRPC equivalents: the stats handler plus the
// recovery interceptor, which sends the x-amzn-trace-id and x-request-id
// response metadata.
func o11yGRPCVariants() []grpcVariant {
	return []grpcVariant{
		{name: "o11y-daemon", parts: func(tb testing.TB) (stats.Handler, grpc.UnaryServerInterceptor, *export) {
			sdk, e := o11yDaemonSDK(tb)
			return grpcmw.NewServerHandler(sdk), grpcmw.UnaryServerRecovery(sdk), e
		}, build: func(tb testing.TB) ([]grpc.ServerOption, *export) {
			sdk, e := o11yDaemonSDK(tb)
			return grpcmw.ServerOptions(sdk), e
		}},
		{name: "o11y-otlp", parts: func(tb testing.TB) (stats.Handler, grpc.UnaryServerInterceptor, *export) {
			sdk, e := o11yOTLPSDK(tb)
			return grpcmw.NewServerHandler(sdk), grpcmw.UnaryServerRecovery(sdk), e
		}, build: func(tb testing.TB) ([]grpc.ServerOption, *export) {
			sdk, e := o11yOTLPSDK(tb)
			return grpcmw.ServerOptions(sdk), e
		}},
	}
}
