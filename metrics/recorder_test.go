package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/emfvalidate"
)

func TestAggregatedFlushGolden(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, func(o *Options) {
		o.ServiceType = "AWS::ECS::Container"
		o.Environment = "prod"
		o.Version = "1.4.2"
		o.DimensionVersion = true
	})
	op := r.Operation("GET /orders/{id}")
	slowUnsampled := spanCtx("5759e988bd862e3fe1be46a994272793", false)
	slowSampled := spanCtx("5759e988bd862e3fe1be46a9942727aa", true)
	fault := spanCtx("5759e988bd862e3fe1be46a9942727bb", true)
	for i := 0; i < 10; i++ {
		op.Observe(context.Background(), 10*time.Millisecond, 0)
	}
	op.Observe(context.Background(), 20*time.Millisecond, FlagError)
	op.Observe(context.Background(), 20*time.Millisecond, FlagError|FlagThrottle)
	op.Observe(slowSampled, 250*time.Millisecond, 0)
	op.Observe(slowUnsampled, 900*time.Millisecond, 0) // slower, but unsampled
	op.Observe(fault, 30*time.Millisecond, FlagFault)
	require.NoError(t, r.Flush(context.Background()))
	lines := w.lines()
	require.Len(t, lines, 1)
	docs := validateLines(t, lines)
	golden(t, "aggregated", w.String())

	d := docs[0]
	assert.Equal(t, [][]string{{"Service", "Operation"}, {"Service"}, {"Service", "Version"}}, d.Directives[0].Dimensions)
	assert.Equal(t, "prod", d.Members["Environment"], "Environment is a property unless enabled")
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a9942727aa", d.Members[PropSlowestTrace], "sampled trace preferred")
	assert.Equal(t, 250.0, d.Members[PropSlowestMs])
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a9942727bb", d.Members[PropFaultTrace])
	lat := d.Members["Latency"].(map[string]any)
	assert.Equal(t, 15.0, lat["Count"])
	assert.InDelta(t, 100+40+250+900+30, lat["Sum"], 1e-9)
	assert.Equal(t, 10.0, lat["Min"])
	assert.Equal(t, 900.0, lat["Max"])
	e := d.Members["Error"].(map[string]any)
	assert.Equal(t, 15.0, e["Count"], "SampleCount of Error is the request count")
	assert.Equal(t, 2.0, e["Sum"])
	f := d.Members["Fault"].(map[string]any)
	assert.Equal(t, 1.0, f["Sum"])

	// Nothing observed since: the next flush writes nothing.
	require.NoError(t, r.Flush(context.Background()))
	assert.Len(t, w.lines(), 1)
}

func TestUnsampledExemplarFallback(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	op := r.Operation("op")
	op.Observe(spanCtx("5759e988bd862e3fe1be46a994272793", false), 5*time.Millisecond, FlagFault)
	op.Observe(spanCtx("5759e988bd862e3fe1be46a994272794", false), 7*time.Millisecond, 0)
	//lint:ignore SA1012 nil ctx must be tolerated
	op.Observe(nil, 9*time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	d := validateLines(t, w.lines())[0]
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272794", d.Members[PropSlowestTrace])
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", d.Members[PropFaultTrace])
}

// Latency values are bucket midpoints within 1/64 of the observed value.
func TestLatencyRelativeError(t *testing.T) {
	for _, us := range []uint64{0, 1, 63, 64, 65, 100, 999, 1000, 12345, 1 << 20, 123456789, 1<<32 - 1} {
		mid := bucketMidMs(bucketIndex(us)) * 1000
		if us < 64 {
			assert.InDelta(t, float64(us)+0.5, mid, 1e-9, "us=%d", us)
			continue
		}
		assert.LessOrEqual(t, math.Abs(mid-float64(us))/float64(us), 1.0/64, "us=%d mid=%v", us, mid)
	}
	// Monotonic and within range.
	prev := -1.0
	for i := 0; i < numBuckets; i++ {
		m := bucketMidMs(i)
		require.Greater(t, m, prev)
		prev = m
	}
	assert.Equal(t, numBuckets-1, bucketIndex(math.MaxUint64))
}

func TestWideDistributionSplits(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	op := r.Operation("op")
	n := 0
	for d := time.Microsecond; d < 10*time.Second; d = d * 103 / 100 {
		op.Observe(context.Background(), d, 0)
		n++
	}
	require.NoError(t, r.Flush(context.Background()))
	docs := validateLines(t, w.lines())
	require.Greater(t, len(docs), 1)
	total := 0.0
	for _, d := range docs {
		total += d.Members["Latency"].(map[string]any)["Count"].(float64)
	}
	assert.Equal(t, float64(n), total)
	assert.Contains(t, docs[0].Members, "Error")
}

func TestCardinalityGuard(t *testing.T) {
	var w lineBuffer
	r, errs := testRecorder(t, &w, func(o *Options) { o.MaxOperations = 3 })
	for i := 0; i < 10; i++ {
		r.Operation(fmt.Sprintf("op%d", i)).Observe(context.Background(), time.Millisecond, 0)
	}
	assert.Same(t, r.Operation("op9"), r.Operation("op5"))
	assert.NotSame(t, r.Operation("op0"), r.Operation("op1"))
	require.NoError(t, r.Flush(context.Background()))
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 4)
	ops := map[string]float64{}
	for _, d := range docs {
		ops[d.Members["Operation"].(string)] = d.Members["Latency"].(map[string]any)["Count"].(float64)
	}
	assert.Equal(t, map[string]float64{"op0": 1, "op1": 1, "op2": 1, "other": 7}, ops)
	assert.Equal(t, 1, errs.count(), errs.String())
}

func TestNilSafety(t *testing.T) {
	var r *Recorder
	op := r.Operation("x")
	require.Nil(t, op)
	op.Observe(context.Background(), time.Second, FlagFault)
	require.NoError(t, r.Flush(context.Background()))
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestOperationNameSanitised(t *testing.T) {
	var w lineBuffer
	r, errs := testRecorder(t, &w, func(o *Options) { o.ServiceName = "" })
	r.Operation("GET /ünï\n").Observe(context.Background(), time.Millisecond, 0)
	r.Operation("").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 2)
	assert.Equal(t, "GET /_n__", docs[0].Members["Operation"])
	assert.Equal(t, "unknown", docs[1].Members["Operation"])
	assert.Equal(t, "unknown_service", docs[0].Members["Service"])
	assert.Positive(t, errs.count())
}

// Concurrent Observe and Flush: every request is counted exactly once.
func TestConcurrentObserveFlush(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	const workers, per = 8, 5000
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := spanCtx(fmt.Sprintf("5759e988bd862e3fe1be46a9942727%02x", g), g%2 == 0)
			op := r.Operation(fmt.Sprintf("op%d", g%3))
			for i := 0; i < per; i++ {
				f := Flags(0)
				if i%10 == 0 {
					f = FlagFault
				}
				op.Observe(ctx, time.Duration(i)*time.Microsecond, f)
			}
		}(g)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				_ = r.Flush(context.Background())
			}
		}
	}()
	wg.Wait()
	close(done)
	require.NoError(t, r.Flush(context.Background()))
	docs := validateLines(t, w.lines())
	var count, faults, sampleFaults float64
	for _, d := range docs {
		if l, ok := d.Members["Latency"].(map[string]any); ok {
			count += l["Count"].(float64)
		}
		if f, ok := d.Members["Fault"].(map[string]any); ok {
			faults += f["Sum"].(float64)
			sampleFaults += f["Count"].(float64)
		}
	}
	assert.Equal(t, float64(workers*per), count)
	assert.Equal(t, float64(workers*per/10), faults)
	assert.Equal(t, float64(workers*per), sampleFaults)
}

type failingWriter struct {
	mu   sync.Mutex
	fail bool
	lineBuffer
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return 0, errors.New("disk full")
	}
	return f.lineBuffer.Write(p)
}

func TestSinkFailureKeepsData(t *testing.T) {
	fw := &failingWriter{fail: true}
	errs := &errorsOf{}
	r := New(Options{ServiceName: "orders", FlushInterval: -1, Writer: fw, Now: func() time.Time { return T }, ErrorHandler: errs.handle})
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.Error(t, r.Flush(context.Background()))
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.Error(t, r.Flush(context.Background()))
	assert.Equal(t, 2, r.pending.len())
	assert.Equal(t, 1, errs.count(), "reported once per interval: %s", errs)
	fw.mu.Lock()
	fw.fail = false
	fw.mu.Unlock()
	require.NoError(t, r.Flush(context.Background()))
	assert.Len(t, fw.lines(), 2)
	validateLines(t, fw.lines())
	assert.Equal(t, 0, r.pending.len())

	// The kept data is bounded.
	var p pendingLines
	line := make([]byte, 10000)
	for i := 0; i < 500; i++ {
		p.add(line, r.rep)
	}
	assert.LessOrEqual(t, p.bytes, maxPending)
	assert.Positive(t, p.dropped)
}

// The background flusher writes on its own and Shutdown flushes the rest.
func TestBackgroundFlushAndShutdown(t *testing.T) {
	var w lineBuffer
	r := New(Options{ServiceName: "orders", FlushInterval: time.Second, Writer: &w})
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.Eventually(t, func() bool { return len(w.lines()) == 1 }, 30*time.Second, 10*time.Millisecond)
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Shutdown(context.Background()))
	require.Len(t, w.lines(), 2)
	for _, l := range w.lines() {
		require.NoError(t, emfvalidate.Validate([]byte(l)))
	}
	require.NoError(t, r.Shutdown(context.Background()), "second Shutdown is a no-op")
}

func TestHighResolutionAndEnvironmentDimension(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, func(o *Options) {
		o.HighResolution = true
		o.Environment = "prod"
		o.DimensionEnvironment = true
	})
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	d := validateLines(t, w.lines())[0]
	for _, m := range d.Directives[0].Metrics {
		assert.Equal(t, 1, m.StorageResolution)
	}
	assert.Contains(t, d.Directives[0].Dimensions, []string{"Service", "Environment"})
}

// Each line goes out in one Write call, even to a plain io.Writer.
func TestOneWritePerLine(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	for i := 0; i < 5; i++ {
		r.Operation(fmt.Sprint(i)).Observe(context.Background(), time.Millisecond, 0)
	}
	require.NoError(t, r.Flush(context.Background()))
	assert.Equal(t, 5, w.writes)
	assert.Len(t, w.lines(), 5)
}
