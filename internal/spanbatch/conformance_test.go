package spanbatch

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// gateExporter records batch sizes and each call's remaining deadline;
// with hold set, an export waits for release (or its context).
type gateExporter struct {
	hold    bool
	release chan struct{}
	entered chan struct{}

	mu        sync.Mutex
	batches   []int
	deadlines []time.Duration
}

func newGate(hold bool) *gateExporter {
	return &gateExporter{hold: hold, release: make(chan struct{}), entered: make(chan struct{}, 1000)}
}

func (g *gateExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	g.mu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		g.deadlines = append(g.deadlines, time.Until(dl))
	} else {
		g.deadlines = append(g.deadlines, -1)
	}
	g.mu.Unlock()
	g.entered <- struct{}{}
	if g.hold {
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.mu.Lock()
	g.batches = append(g.batches, len(spans))
	g.mu.Unlock()
	return nil
}

func (g *gateExporter) Shutdown(context.Context) error { return nil }

func (g *gateExporter) result() (total int, sizes []int, deadlines []time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, b := range g.batches {
		total += b
	}
	return total, append([]int(nil), g.batches...), append([]time.Duration(nil), g.deadlines...)
}

func waitEntered(t *testing.T, g *gateExporter, what string) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second): // a hang guard, not a latency claim
		t.Fatalf("no export call: %s", what)
	}
}

// TestBSPConformance runs this processor and the SDK's BatchSpanProcessor
// under the same OTEL_BSP_* environment and compares what their exporters
// receive, by counting (batch sizes, spans delivered and dropped).
func TestBSPConformance(t *testing.T) {
	type impl struct {
		name string
		new  func(sdktrace.SpanExporter) (sdktrace.SpanProcessor, func() uint64)
	}
	impls := []impl{
		{"ours", func(e sdktrace.SpanExporter) (sdktrace.SpanProcessor, func() uint64) {
			p := New(e, Options{Report: func(error) {}}) // Getenv nil: the process environment
			return p, p.Dropped
		}},
		{"upstream", func(e sdktrace.SpanExporter) (sdktrace.SpanProcessor, func() uint64) {
			return sdktrace.NewBatchSpanProcessor(e), nil
		}},
	}
	tests := []struct {
		name string
		env  map[string]string
		run  func(t *testing.T, impl string, p sdktrace.SpanProcessor, g *gateExporter, dropped func() uint64)
	}{{
		// The queue bound: 4 spans fill a batch and its export blocks;
		// 26 more arrive. Upstream keeps a full queue besides the batch in
		// flight (4 + 10); ours bounds both together (10), the documented
		// difference. Batches never exceed MAX_EXPORT_BATCH_SIZE.
		name: "MAX_QUEUE_SIZE and MAX_EXPORT_BATCH_SIZE",
		env:  map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4", "OTEL_BSP_SCHEDULE_DELAY": "3600000"},
		run: func(t *testing.T, impl string, p sdktrace.SpanProcessor, g *gateExporter, dropped func() uint64) {
			g.hold = true
			for i := range 4 {
				p.OnEnd(span(fmt.Sprint(i), true))
			}
			waitEntered(t, g, "a full batch is exported without waiting for the delay")
			for i := range 26 {
				p.OnEnd(span(fmt.Sprint(4+i), true))
			}
			close(g.release)
			shutdown(t, p)
			total, sizes, _ := g.result()
			for _, s := range sizes {
				assert.LessOrEqual(t, s, 4, "batch sizes %v", sizes)
			}
			want := map[string]int{"ours": 10, "upstream": 14}[impl]
			assert.Equal(t, want, total, "spans delivered, batches %v", sizes)
			if dropped != nil {
				assert.Equal(t, uint64(30-want), dropped())
			}
		},
	}, {
		name: "MAX_EXPORT_BATCH_SIZE larger than MAX_QUEUE_SIZE is cut to it",
		env:  map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "5", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100", "OTEL_BSP_SCHEDULE_DELAY": "3600000"},
		run: func(t *testing.T, _ string, p sdktrace.SpanProcessor, g *gateExporter, _ func() uint64) {
			for i := range 5 {
				p.OnEnd(span(fmt.Sprint(i), true))
			}
			waitEntered(t, g, "5 spans are a full batch")
			shutdown(t, p)
			_, sizes, _ := g.result()
			assert.Equal(t, []int{5}, sizes)
		},
	}, {
		name: "SCHEDULE_DELAY exports a partial batch without a flush",
		env:  map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "20"},
		run: func(t *testing.T, _ string, p sdktrace.SpanProcessor, g *gateExporter, _ func() uint64) {
			for i := range 3 {
				p.OnEnd(span(fmt.Sprint(i), true))
			}
			waitEntered(t, g, "the delay passed")
			shutdown(t, p)
			_, sizes, _ := g.result()
			assert.Equal(t, []int{3}, sizes)
		},
	}, {
		name: "EXPORT_TIMEOUT bounds each export call",
		env:  map[string]string{"OTEL_BSP_EXPORT_TIMEOUT": "50", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1"},
		run: func(t *testing.T, _ string, p sdktrace.SpanProcessor, g *gateExporter, _ func() uint64) {
			g.hold = true // never released: the call ends by its deadline
			p.OnEnd(span("x", true))
			waitEntered(t, g, "a batch of one")
			shutdown(t, p)
			total, _, deadlines := g.result()
			assert.Zero(t, total, "the held export timed out")
			require.NotEmpty(t, deadlines)
			assert.Greater(t, deadlines[0], time.Duration(0))
			assert.LessOrEqual(t, deadlines[0], 50*time.Millisecond)
		},
	}}
	for _, tt := range tests {
		for _, im := range impls {
			t.Run(tt.name+"/"+im.name, func(t *testing.T) {
				for _, kv := range os.Environ() {
					if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_BSP_") {
						t.Setenv(k, "")
					}
				}
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				g := newGate(false)
				p, dropped := im.new(g)
				tt.run(t, im.name, p, g, dropped)
			})
		}
	}
}

func shutdown(t *testing.T, p sdktrace.SpanProcessor) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
}
