package reliability

import (
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// collector is an OTLP/gRPC trace collector on loopback that counts the
// spans it receives, optionally taking delay per request.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	delay    time.Duration
	spans    atomic.Int64
	requests atomic.Int64
	addr     string
}

func (c *collector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var n int64
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			n += int64(len(ss.Spans))
		}
	}
	c.spans.Add(n)
	c.requests.Add(1)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func newCollector(t testing.TB, delay time.Duration) *collector {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{delay: delay, addr: ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c
}

// TestOTLPOverload offers 50,000 spans/s to the OTLP path (o11y's batch
// processor and exporter, a real gRPC collector on loopback). Every ended
// span must be accounted for (exported + failed + dropped), the collector
// must have received exactly the exported ones, the heap must stay bounded,
// and drops must be reported a handful of times, not per span.
func TestOTLPOverload(t *testing.T) {
	t.Run("collector keeps up", func(t *testing.T) { otlpOverload(t, 0, 2048, time.Second) })
	// A collector taking 50 ms per request with a 64-span queue: the queue
	// overflows whatever the machine's speed.
	t.Run("slow collector, 64-span queue", func(t *testing.T) { otlpOverload(t, 50*time.Millisecond, 64, time.Second) })
}

func otlpOverload(t *testing.T, delay time.Duration, queueSize int, dur time.Duration) {
	const (
		rate      = 50000
		producers = 4
	)
	if *soak {
		dur = 10 * time.Second
	}
	col := newCollector(t, delay)
	errs := &counter{}
	cfg := baseConfig(&lineBuf{discard: true}, errs)
	cfg.Traces.Exporter = "otlp"
	cfg.Traces.OTLPEndpoint = "http://" + col.addr
	cfg.Traces.QueueSize = queueSize
	ended := &spanCounter{}
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{ended}
	sdk := startSDK(t, cfg)
	tracer := sdk.Tracer()

	heap0 := heapInuse()
	var maxHeap uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	offered := newOfferCount(int64(float64(rate) * dur.Seconds()))
	offerSpans(&wg, tracer, rate, producers, stop, offered)
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			maxHeap = max(maxHeap, m.HeapInuse)
		}
	})
	offered.wait(t) // the load runs until rate × dur spans were offered (counted, not timed)
	close(stop)
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sdk.ForceFlush(ctx); err != nil {
		t.Errorf("ForceFlush: %v", err)
	}
	st := sdk.Stats()
	n := ended.ended.Load()
	heap1 := heapInuse()
	t.Logf("ended %d spans in %v; exported %d, failed %d, dropped %d; collector received %d in %d requests",
		n, dur, st.OTLPSpansExported, st.OTLPSpansFailed, st.SpansDropped, col.spans.Load(), col.requests.Load())
	t.Logf("heap in use %s before, max %s during, %s after GC; ErrorHandler: %s", mib(heap0), mib(maxHeap), mib(heap1), errs)

	if got := int64(st.OTLPSpansExported + st.OTLPSpansFailed + st.SpansDropped); got != n {
		t.Errorf("accounting: exported %d + failed %d + dropped %d = %d, want %d ended spans",
			st.OTLPSpansExported, st.OTLPSpansFailed, st.SpansDropped, got, n)
	}
	if got := col.spans.Load(); got != int64(st.OTLPSpansExported) {
		t.Errorf("collector received %d spans, exporter counted %d exported", got, st.OTLPSpansExported)
	}
	if st.OTLPSpansFailed != 0 {
		t.Errorf("%d spans failed against a healthy collector", st.OTLPSpansFailed)
	}
	if queueSize < 100 && st.SpansDropped == 0 {
		t.Errorf("a %d-span queue with a slow collector under %d spans/s dropped nothing", queueSize, rate)
	}
	if maxHeap > heap0+64<<20 {
		t.Errorf("heap grew from %s to %s under overload", mib(heap0), mib(maxHeap))
	}
	if c := errs.count(); c > 5 {
		t.Errorf("%d ErrorHandler calls: drops must be reported a handful of times, not per span", c)
	}
}
