package spanbatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/o11y-go/o11y/internal/configerr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an exporter that records batch sizes; block, when set, holds
// every export until it is closed or the export's context ends.
type recorder struct {
	mu       sync.Mutex
	batches  []int
	names    []string
	shutdown int
	block    chan struct{}
	panics   int // export calls left that panic
}

func (r *recorder) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.panics > 0 {
		r.panics--
		panic("exporter bug")
	}
	r.batches = append(r.batches, len(spans))
	for _, s := range spans {
		r.names = append(r.names, s.Name())
	}
	return nil
}

func (r *recorder) Shutdown(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown++
	return nil
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		n += b
	}
	return n
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.batches...)
}

func span(name string, sampled bool) sdktrace.ReadOnlySpan {
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1},
		SpanID:     trace.SpanID{2},
		TraceFlags: flags,
	})
	return tracetest.SpanStub{Name: name, SpanContext: sc}.Snapshot()
}

func noEnv(string) string { return "" }

func newProc(t *testing.T, exp sdktrace.SpanExporter, o Options) *Processor {
	t.Helper()
	if o.Getenv == nil {
		o.Getenv = noEnv
	}
	p := New(exp, o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p
}

func TestFlushExportsEverythingInBatches(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{QueueSize: 2000, BatchSize: 100, Delay: time.Hour})
	for i := range 1000 {
		p.OnEnd(span("s"+string(rune('a'+i%26)), true))
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, 1000, rec.total())
	for _, n := range rec.sizes() {
		assert.LessOrEqual(t, n, 100)
	}
	assert.Equal(t, uint64(1000), p.Exported())
	assert.Zero(t, p.Dropped())
}

func TestFullBatchIsExportedWithoutWaitingForTheDelay(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{BatchSize: 10, Delay: time.Hour})
	for range 10 {
		p.OnEnd(span("s", true))
	}
	assert.Eventually(t, func() bool { return rec.total() == 10 }, 30*time.Second, time.Millisecond)
	assert.Equal(t, []int{10}, rec.sizes())
}

func TestPartialBatchIsExportedAfterTheDelay(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{BatchSize: 10, Delay: 20 * time.Millisecond})
	p.OnEnd(span("s", true))
	p.OnEnd(span("s", true))
	assert.Eventually(t, func() bool { return rec.total() == 2 }, 30*time.Second, time.Millisecond)
	// And again after an idle period.
	p.OnEnd(span("s", true))
	assert.Eventually(t, func() bool { return rec.total() == 3 }, 30*time.Second, time.Millisecond)
}

func TestUnsampledSpansAreIgnored(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{})
	p.OnEnd(span("no", false))
	p.OnEnd(nil)
	p.OnEnd(span("yes", true))
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, []string{"yes"}, rec.names)
}

func TestQueueFullDropsAndReportsOnce(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	var mu sync.Mutex
	var reports []error
	p := newProc(t, rec, Options{QueueSize: 8, BatchSize: 4, Delay: time.Millisecond, Report: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, err)
	}})
	for range 100 {
		p.OnEnd(span("s", true))
	}
	// Queued plus in flight never exceeds the queue size.
	assert.Equal(t, uint64(92), p.Dropped())
	close(rec.block)
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, 8, rec.total())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reports, 1)
	assert.ErrorIs(t, reports[0], ErrQueueFull)
}

func TestShutdownDrainsThenShutsTheExporterDown(t *testing.T) {
	rec := &recorder{}
	p := New(rec, Options{Getenv: noEnv, BatchSize: 7, Delay: time.Hour})
	for range 50 {
		p.OnEnd(span("s", true))
	}
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, 50, rec.total())
	assert.Equal(t, 1, rec.shutdown)
	p.OnEnd(span("late", true))
	assert.Equal(t, uint64(1), p.Dropped())
	assert.NoError(t, p.ForceFlush(context.Background()), "flush after shutdown is a no-op")
	assert.NoError(t, p.Shutdown(context.Background()), "second shutdown")
}

func TestShutdownIsBoundedByItsContext(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	p := New(rec, Options{Getenv: noEnv, BatchSize: 5, Delay: time.Millisecond, ExportTimeout: time.Hour})
	for range 12 {
		p.OnEnd(span("s", true))
	}
	// The export blocks until the test ends and ExportTimeout is an hour:
	// returning DeadlineExceeded at all shows Shutdown kept to its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "12 spans not exported")
	close(rec.block) // let the goroutine finish (goleak checks)
	<-p.done
}

func TestForceFlushIsBoundedByItsContext(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	p := newProc(t, rec, Options{BatchSize: 5, Delay: time.Hour})
	for range 3 {
		p.OnEnd(span("s", true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.ForceFlush(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3 spans not exported")
	close(rec.block)
}

func TestExportTimeoutBoundsEachCall(t *testing.T) {
	rec := &recorder{block: make(chan struct{})} // never released: exports end by timeout
	p := newProc(t, rec, Options{BatchSize: 2, Delay: time.Hour, ExportTimeout: 20 * time.Millisecond})
	for range 4 {
		p.OnEnd(span("s", true))
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Zero(t, p.Exported())
}

func TestPanickingExporterLosesItsBatchOnly(t *testing.T) {
	rec := &recorder{panics: 1}
	var got []error
	var mu sync.Mutex
	p := newProc(t, rec, Options{BatchSize: 3, Delay: time.Hour, Report: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, err)
	}})
	for range 3 {
		p.OnEnd(span("s", true))
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, uint64(3), p.Dropped())
	p.OnEnd(span("after", true))
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, []string{"after"}, rec.names)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Contains(t, got[0].Error(), "exporter panicked, 3 spans lost")
}

func TestConcurrentProducers(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{QueueSize: 100000, BatchSize: 64, Delay: time.Millisecond})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				p.OnEnd(span("s", true))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_ = p.ForceFlush(context.Background())
		}
	})
	wg.Wait()
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, 16000, rec.total())
	assert.Zero(t, p.Dropped())
}

func TestResolve(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		in      Options
		want    Options
		reports []string
	}{
		{"defaults", Options{Getenv: env()},
			Options{QueueSize: 2048, BatchSize: 512, Delay: 5 * time.Second, ExportTimeout: 30 * time.Second}, nil},
		{"environment", Options{Getenv: env(
			"OTEL_BSP_MAX_QUEUE_SIZE", "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50",
			"OTEL_BSP_SCHEDULE_DELAY", "250", "OTEL_BSP_EXPORT_TIMEOUT", "1000")},
			Options{QueueSize: 100, BatchSize: 50, Delay: 250 * time.Millisecond, ExportTimeout: time.Second}, nil},
		{"options win over the environment", Options{QueueSize: 10, BatchSize: 5, Delay: time.Second, ExportTimeout: 2 * time.Second,
			Getenv: env("OTEL_BSP_MAX_QUEUE_SIZE", "100", "OTEL_BSP_SCHEDULE_DELAY", "1")},
			Options{QueueSize: 10, BatchSize: 5, Delay: time.Second, ExportTimeout: 2 * time.Second}, nil},
		{"batch no larger than the queue", Options{QueueSize: 10, Getenv: env()},
			Options{QueueSize: 10, BatchSize: 10, Delay: 5 * time.Second, ExportTimeout: 30 * time.Second}, nil},
		{"bad values fall back and are reported", Options{Getenv: env("OTEL_BSP_SCHEDULE_DELAY", "5s", "OTEL_BSP_MAX_QUEUE_SIZE", "-1")},
			Options{QueueSize: 2048, BatchSize: 512, Delay: 5 * time.Second, ExportTimeout: 30 * time.Second},
			[]string{`o11y: config: OTEL_BSP_MAX_QUEUE_SIZE="-1": not a positive integer; using 2048`,
				`o11y: config: OTEL_BSP_SCHEDULE_DELAY="5s": not a positive number of milliseconds; using 5000`}},
		{"every variable", Options{Getenv: env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "lots", "OTEL_BSP_EXPORT_TIMEOUT", "0")},
			Options{QueueSize: 2048, BatchSize: 512, Delay: 5 * time.Second, ExportTimeout: 30 * time.Second},
			[]string{`o11y: config: OTEL_BSP_MAX_EXPORT_BATCH_SIZE="lots": not a positive integer; using 512`,
				`o11y: config: OTEL_BSP_EXPORT_TIMEOUT="0": not a positive number of milliseconds; using 30000`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reports []string
			tt.in.Report = func(err error) {
				var ce *configerr.Error
				assert.True(t, errors.As(err, &ce), "a *configerr.Error: %v", err)
				reports = append(reports, err.Error())
			}
			got := tt.in.resolve()
			got.Getenv, got.Report = nil, nil
			assert.Equal(t, tt.want, got)
			require.Len(t, reports, len(tt.reports))
			for i, r := range tt.reports {
				assert.Equal(t, r, reports[i])
			}
		})
	}
}

func TestOnEndDoesNotAllocate(t *testing.T) {
	p := newProc(t, &recorder{}, Options{QueueSize: 1 << 20, BatchSize: 1 << 19, Delay: time.Hour})
	s := span("s", true)
	allocs := testing.AllocsPerRun(1000, func() { p.OnEnd(s) })
	assert.Zero(t, allocs)
}

// The first span of every batch arms the delay timer: that must not
// allocate either.
func TestFirstSpanOfABatchDoesNotAllocate(t *testing.T) {
	p := newProc(t, &recorder{}, Options{QueueSize: 64, BatchSize: 32, Delay: time.Hour})
	s := span("s", true)
	allocs := testing.AllocsPerRun(1000, func() {
		p.OnEnd(s) // finds the queue empty: arms the timer
		p.mu.Lock()
		p.pending = p.pending[:0]
		p.mu.Unlock()
	})
	assert.Zero(t, allocs)
}

func TestNilProcessor(t *testing.T) {
	var p *Processor
	p.OnEnd(span("s", true))
	assert.NoError(t, p.ForceFlush(context.Background()))
	assert.NoError(t, p.Shutdown(context.Background()))
	assert.Zero(t, p.Dropped())
	assert.Zero(t, p.Exported())
}

func TestExporterForceFlushIsCalled(t *testing.T) {
	f := &flushingRecorder{}
	p := newProc(t, f, Options{})
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, 1, f.flushes)
	f.err = errors.New("boom")
	assert.ErrorContains(t, p.ForceFlush(context.Background()), "boom")
}

type flushingRecorder struct {
	recorder
	flushes int
	err     error
}

func (f *flushingRecorder) ForceFlush(context.Context) error {
	f.flushes++
	return f.err
}

func TestLargeQueueGrowsOnDemandAndShrinksAfterwards(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	const size = 3 * keptCap
	p := newProc(t, rec, Options{QueueSize: size, BatchSize: 100, Delay: time.Hour})
	assert.LessOrEqual(t, cap(p.pending), keptCap, "not preallocated")
	for range size + 500 {
		p.OnEnd(span("s", true))
	}
	assert.Equal(t, uint64(500), p.Dropped(), "the bound is the queue size, not the initial capacity")
	close(rec.block)
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, size, rec.total())
	require.NoError(t, p.ForceFlush(context.Background())) // the goroutine swaps buffers again
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.LessOrEqual(t, cap(p.pending), keptCap, "the burst's buffer was released")
}

// A flush that takes a full batch may leave its wake-up signal behind; it
// must not make the next partial batch go out before the delay. The first
// span of that batch only arms the delay timer: it wakes nobody.
func TestStaleWakeDoesNotCutTheDelayShort(t *testing.T) {
	rec := &recorder{}
	idle := make(chan struct{}, 1)
	p := newProc(t, rec, Options{BatchSize: 3, Delay: time.Hour, waiting: func(lingering bool, wakes int) {
		// Idle with the first batch exported and no wake-up pending: the
		// goroutine blocks until a full batch, the delay, a flush or
		// shutdown.
		if !lingering && wakes == 0 && rec.total() == 3 {
			select {
			case idle <- struct{}{}:
			default:
			}
		}
	}})
	for range 3 {
		p.OnEnd(span("s", true))
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	require.Equal(t, 3, rec.total())
	select { // sync point: any stale wake-up has been taken
	case <-idle:
	case <-time.After(30 * time.Second):
		t.Fatal("the goroutine never settled")
	}
	p.OnEnd(span("s", true))
	// Nothing can wake the goroutine before the hour-long delay now.
	assert.Zero(t, len(p.wake), "the first span of a batch must not wake the goroutine")
	assert.Equal(t, 1, p.Queued(), "a partial batch waits for the delay")
	assert.Equal(t, 3, rec.total())
	require.NoError(t, p.ForceFlush(context.Background()))
	assert.Equal(t, []int{3, 1}, rec.sizes())
}

// The timer armed by a batch's first span sends the partial batch.
func TestPartialBatchGoesOutAfterTheDelay(t *testing.T) {
	rec := &recorder{}
	p := newProc(t, rec, Options{BatchSize: 100, Delay: 5 * time.Millisecond})
	for round := 1; round <= 3; round++ {
		p.OnEnd(span("s", true))
		p.OnEnd(span("s", true))
		require.Eventually(t, func() bool { return rec.total() == 2*round }, 30*time.Second, time.Millisecond)
	}
	assert.Zero(t, p.Queued())
}

func TestSettingsAreThoseInEffect(t *testing.T) {
	p := newProc(t, &recorder{}, Options{Getenv: func(k string) string {
		return map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-10", "OTEL_BSP_SCHEDULE_DELAY": "250"}[k]
	}, Report: func(error) {}})
	assert.Equal(t, Options{QueueSize: DefaultQueueSize, BatchSize: 512, Delay: 250 * time.Millisecond, ExportTimeout: 30 * time.Second}, p.Settings())
	assert.Equal(t, Options{}, (*Processor)(nil).Settings())
}
