package reliability

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// TestOverload offers 50,000 spans/s (2 s by default, 10 s with -soak) to
// the X-Ray exporter and checks that its queue never exceeds its bound, that
// every span is sent, failed or dropped (and counted), that the heap stays
// bounded and that an HTTP request served meanwhile is answered promptly.
func TestOverload(t *testing.T) {
	t.Run("reading daemon", func(t *testing.T) { overload(t, false, 2048, 2*time.Second) })
	t.Run("no daemon", func(t *testing.T) { overload(t, true, 2048, time.Second) })
	// A 64-span queue overflows on the producers' bursts even when the
	// sender keeps up on average: the bound and the drop count are exercised
	// whatever the machine's speed.
	t.Run("64-span queue", func(t *testing.T) { overload(t, false, 64, time.Second) })
}

func overload(t *testing.T, absent bool, queueSize int, dur time.Duration) {
	const (
		rate      = 50000
		producers = 4
	)
	if *soak {
		dur = 10 * time.Second
	}

	errs := &counter{}
	out := &lineBuf{discard: true}
	addr := refusedAddr(t)
	var d *daemon
	if !absent {
		d = newDaemon(t, false)
		addr = d.addr()
	}
	proc, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: addr, QueueSize: queueSize, ErrorHandler: errs.add})
	if err != nil {
		t.Fatal(err)
	}
	ended := &spanCounter{}
	cfg := baseConfig(out, errs)
	// The counter runs before the exporter, so ended − processed is what
	// the exporter holds (plus one span per producer between the two
	// calls). QueueSize bounds the spans waiting plus the batch the
	// processor's goroutine is sending.
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{ended, proc}
	sdk := startSDK(t, cfg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("pong")) })
	srv := httptest.NewServer(httpmw.New(sdk)(mux))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	heap0 := heapInuse()
	rss0 := rssBytes()
	tracer := sdk.Tracer()
	offered := newOfferCount(int64(float64(rate) * dur.Seconds()))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	offerSpans(&wg, tracer, rate, producers, stop, offered)

	// Watchers: queue bound, heap, and a health probe.
	var maxInflight, violations int64
	var maxHeap, maxRSS uint64
	var probes []time.Duration
	probeFail := 0
	var mu sync.Mutex
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		i := 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// ended first: a span ended after this read cannot inflate it.
			e := ended.ended.Load()
			st := proc.Stats()
			inflight := e - int64(st.Sent+st.Errors+st.Dropped)
			mu.Lock()
			maxInflight = max(maxInflight, inflight)
			if inflight > int64(queueSize+producers+1) { // +1: the health probe's span
				violations++
			}
			if i%10 == 0 {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				maxHeap = max(maxHeap, m.HeapInuse)
				maxRSS = max(maxRSS, rssBytes())
			}
			mu.Unlock()
			i++
		}
	}()
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			st, d, err := get(client, srv.URL+"/ping", nil)
			mu.Lock()
			if err != nil || st != http.StatusOK {
				probeFail++
			} else {
				probes = append(probes, d)
			}
			mu.Unlock()
		}
	}()

	offered.wait(t) // the load runs until rate × dur spans were offered (counted, not timed)
	close(stop)
	wg.Wait()
	<-watchDone
	<-probeDone
	elapsed := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := proc.ForceFlush(ctx); err != nil {
		t.Errorf("ForceFlush: %v", err)
	}
	st := proc.Stats()
	n := ended.ended.Load()
	heap1 := heapInuse()
	slices.Sort(probes)
	received := int64(-1)
	if d != nil {
		received = d.settle(t).Handled
	}

	t.Logf("offered %d spans in %v (%.0f spans/s, target %d/s); ended %d; xray sent %d, errors %d, dropped %d; daemon received %d",
		offered.Load(), elapsed.Round(time.Millisecond), float64(offered.Load())/elapsed.Seconds(), rate, n, st.Sent, st.Errors, st.Dropped, received)
	t.Logf("max held by the exporter (ended − processed) %d, queue size %d; heap in use %s before, max %s during, %s after GC; RSS %s before, max %s",
		maxInflight, queueSize, mib(heap0), mib(maxHeap), mib(heap1), mib(rss0), mib(maxRSS))
	t.Logf("health probe during overload: %d answered, %d failed, p50 %s, max %s; ErrorHandler: %s",
		len(probes), probeFail, us(percentile(probes, 50)), us(percentile(probes, 100)), errs)

	if queueSize < 100 && st.Dropped == 0 {
		t.Errorf("a %d-span queue under %d spans/s dropped nothing", queueSize, rate)
	}
	if violations > 0 {
		t.Errorf("held-spans bound exceeded %d times (max %d held, bound %d plus one span per producer)", violations, maxInflight, queueSize)
	}
	if got := int64(st.Sent + st.Errors + st.Dropped); got != n {
		t.Errorf("accounting: sent %d + errors %d + dropped %d = %d, want %d ended spans", st.Sent, st.Errors, st.Dropped, got, n)
	}
	if n != offered.Load() {
		t.Errorf("ended %d spans, offered %d", n, offered.Load())
	}
	if absent && st.Errors+st.Dropped == 0 {
		t.Error("no daemon, yet no error or drop counted")
	}
	if c := errs.count(); c > 5 {
		t.Errorf("ErrorHandler called %d times under overload (want ≤ 5): %s", c, errs)
	}
	if grow := int64(heap1) - int64(heap0); grow > 16<<20 {
		t.Errorf("live heap grew by %s after the overload", smib(grow))
	}
	if maxHeap > heap0+256<<20 {
		t.Errorf("heap in use reached %s during the overload (started at %s)", mib(maxHeap), mib(heap0))
	}
	if probeFail > 0 || len(probes) == 0 {
		t.Errorf("health probe: %d failed, %d answered", probeFail, len(probes))
	}
	// The producers saturate the CPU on purpose; the probe competes with
	// them (and with whatever else the machine runs: the bounds scale with
	// the load average).
	slack := loadSlack()
	if p, lim := percentile(probes, 50), time.Duration(float64(200*time.Millisecond)*slack); p > lim {
		t.Errorf("health probe p50 %v under overload (want < %v)", p, lim)
	}
	if p, lim := percentile(probes, 100), time.Duration(float64(2*time.Second)*slack); p > lim {
		t.Errorf("health probe max %v under overload (want < %v)", p, lim)
	}
}

// offerCount counts offered spans and signals when a target is reached.
type offerCount struct {
	atomic.Int64
	target  int64
	reached chan struct{}
	once    sync.Once
}

func newOfferCount(target int64) *offerCount {
	return &offerCount{target: target, reached: make(chan struct{})}
}

func (o *offerCount) add() {
	if o.Add(1) == o.target {
		o.once.Do(func() { close(o.reached) })
	}
}

// wait returns once the target was offered; the timeout only bounds a
// failing test.
func (o *offerCount) wait(t testing.TB) {
	t.Helper()
	select {
	case <-o.reached:
	case <-time.After(5 * time.Minute):
		t.Fatalf("only %d of %d spans offered", o.Load(), o.target)
	}
}

// offerSpans starts producers goroutines (added to wg) that together end
// rate spans per second on tracer, in bursts of up to 64, until stop is
// closed, counting them in offered.
func offerSpans(wg *sync.WaitGroup, tracer trace.Tracer, rate, producers int, stop <-chan struct{}, offered *offerCount) {
	start := time.Now()
	for p := range producers {
		wg.Go(func() {
			attrs := []attribute.KeyValue{attribute.Int("producer", p), attribute.String("payload", "some value of modest size")}
			ctx := context.Background()
			var n int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				target := int64(time.Since(start).Seconds() * float64(rate) / float64(producers))
				if n >= target {
					time.Sleep(500 * time.Microsecond)
					continue
				}
				for end := min(target, n+64); n < end; n++ {
					_, s := tracer.Start(ctx, "overload", trace.WithAttributes(attrs...))
					s.End()
					offered.add()
				}
				runtime.Gosched()
			}
		})
	}
}
