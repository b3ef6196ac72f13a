package bench

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"syscall"
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
	// build returns the handler and how to flush and check its telemetry.
	build func(tb testing.TB, next http.Handler) (h http.Handler, e *export)
}

// export is a variant's telemetry pipeline as the benchmarks see it.
type export struct {
	// flush pushes all pending telemetry out; benchmarks call it inside the
	// timed region, so export work is charged to the requests.
	flush func()
	// sink is the stand-in receiving the telemetry (nil: none).
	sink *standin
	// dropped returns how many spans the SDK itself dropped (nil: the SDK
	// has no such counter).
	dropped func() uint64
}

// noExport is the bare variants' pipeline.
var noExport = &export{flush: func() {}}

// cpuMeter measures the process's CPU time (user + system, all threads:
// the request path, the exporters' goroutines and the garbage collector;
// not the stand-ins, which are other processes) over a benchmark loop.
// On two cores a variant's background export work can hide in wall time
// while the other core is idle; cpu-ns/op charges it. It also counts the
// process's voluntary context switches (a thread going to sleep: an idle
// runtime thread parking, a goroutine blocking with nothing else to run),
// reported as vcsw/op: the wake-ups a pipeline causes, which cost CPU on
// both sides, and a figure that moves far less with the machine's load.
type cpuMeter struct {
	cpu   time.Duration
	nvcsw int64
}

func startCPU() cpuMeter {
	cpu, nvcsw := selfUsage()
	return cpuMeter{cpu, nvcsw}
}

// report adds cpu-ns/op and vcsw/op; call it after the timed flush.
func (m cpuMeter) report(b *testing.B) {
	cpu, nvcsw := selfUsage()
	b.ReportMetric(float64(cpu-m.cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(nvcsw-m.nvcsw)/float64(b.N), "vcsw/op")
}

// selfUsage returns this process's CPU time and voluntary context switches.
func selfUsage() (time.Duration, int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw
}

// timedFlush runs e.flush with the timer on: b.Loop stops the timer when it
// ends, so without this the export work would not be charged.
func timedFlush(b *testing.B, e *export) {
	b.StartTimer()
	e.flush()
	b.StopTimer()
}

// check reports what the pipeline lost for the given number of sampled
// requests: "drops/op" from the SDK's own counter and "lost/op" from what
// the stand-in received (one segment or span per request). Both should be 0;
// a row with losses did less export work than it was asked to.
func (e *export) check(tb testing.TB, requests int) (dropped, lost float64) {
	if e.dropped != nil {
		dropped = float64(e.dropped()) / float64(requests)
	}
	if e.sink != nil {
		if n := e.sink.Count(); n >= 0 {
			lost = float64(int64(requests)-n) / float64(requests)
		} else {
			tb.Errorf("stand-in count unavailable")
		}
	}
	return dropped, lost
}

// reportLoss adds the loss metrics to a benchmark row.
func reportLoss(b *testing.B, e *export, requests int) {
	if e.dropped == nil && e.sink == nil {
		return
	}
	dropped, lost := e.check(b, requests)
	if e.dropped != nil {
		b.ReportMetric(dropped, "drops/op")
	}
	b.ReportMetric(lost, "lost/op")
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

// queueSize is the span queue size every queued variant gets. For the
// benchmarks it is large enough to hold a whole run, so no variant drops
// spans (which would skip their export work and flatter its row) and the
// backlog is exported inside the timed region by the final flush; lost/op
// checks it. The loopback test sets it to 0 (the SDKs' defaults, 2048):
// sustained throughput must be reached with production queues, and any drop
// shows in its output.
var queueSize = 1 << 18

// daemonKind is the X-Ray daemon stand-in the variants send to. The
// per-request benchmarks use "daemon-fast" (an enlarged buffer, see
// TestMain: they measure CPU per request, not delivery); the loopback test
// sets "daemon", which reads like the real daemon (kernel-default buffer).
var daemonKind = "daemon-fast"

// startXRayDaemon starts a daemon stand-in and points aws-xray-sdk-go at it,
// recording every request, with its logger quiet.
func startXRayDaemon(tb testing.TB) *standin {
	d := startStandin(tb, daemonKind)
	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	if err := xray.Configure(xray.Config{DaemonAddr: d.Addr, SamplingStrategy: alwaysSample{}}); err != nil {
		tb.Fatal(err)
	}
	return d
}

func otelTracerProvider(tb testing.TB, collectorAddr string) *sdktrace.TracerProvider {
	tp, err := newOTelTracerProvider(collectorAddr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	return tp
}

// newOTelTracerProvider is the OpenTelemetry SDK as an otelhttp user sets it
// up: X-Ray ids, every request sampled, a batch span processor exporting
// OTLP/gRPC to collectorAddr with queueSize spans (0: its default, 2048).
func newOTelTracerProvider(collectorAddr string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(collectorAddr), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, err
	}
	var bopts []sdktrace.BatchSpanProcessorOption
	if queueSize > 0 {
		bopts = append(bopts, sdktrace.WithMaxQueueSize(queueSize))
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(xrayprop.NewIDGenerator()),
		sdktrace.WithBatcher(exp, bopts...),
	), nil
}

// otelPropagator reads X-Amzn-Trace-Id (the contrib X-Ray propagator) and
// traceparent, as an otelhttp service on AWS is set up.
func otelPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(xrayprop.Propagator{}, propagation.TraceContext{})
}

var (
	bareHTTP = variant{"bare", func(tb testing.TB, next http.Handler) (http.Handler, *export) {
		return next, noExport
	}}
	otelhttpOTLP = variant{"otelhttp-otlp", func(tb testing.TB, next http.Handler) (http.Handler, *export) {
		col := startStandin(tb, "collector")
		tp := otelTracerProvider(tb, col.Addr)
		h := otelhttp.NewHandler(next, "orders", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(otelPropagator()))
		return h, &export{flush: func() { _ = tp.ForceFlush(context.Background()) }, sink: col}
	}}
	xraySDK = variant{"xray-sdk", func(tb testing.TB, next http.Handler) (http.Handler, *export) {
		d := startXRayDaemon(tb)
		// The X-Ray SDK sends each segment synchronously when it closes, so
		// there is nothing left to flush.
		return xray.Handler(xray.NewFixedSegmentNamer("orders"), next), &export{flush: func() {}, sink: d}
	}}
)
