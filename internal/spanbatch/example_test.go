package spanbatch_test

import (
	"context"
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/spanbatch"
)

// countingExporter prints the size of each batch it is given.
type countingExporter struct{}

func (countingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	fmt.Println("export of", len(spans), "spans")
	return nil
}
func (countingExporter) Shutdown(context.Context) error { return nil }

// Spans are exported in batches: a full batch at once, the rest after the
// delay, on ForceFlush or on Shutdown.
func Example() {
	p := spanbatch.New(countingExporter{}, spanbatch.Options{
		BatchSize: 3,
		Delay:     time.Hour,
		Getenv:    func(string) string { return "" }, // ignore OTEL_BSP_* here
	})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	end := func(n int) {
		for range n {
			_, span := tp.Tracer("example").Start(context.Background(), "op")
			span.End()
		}
	}
	end(3) // a full batch: exported without waiting for the delay
	_ = tp.ForceFlush(context.Background())
	end(2) // a partial batch: waits for the delay, a flush or shutdown

	// Shutdown exports it, within the shutdown budget.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tp.Shutdown(ctx)
	fmt.Println("dropped:", p.Dropped())
	// Output:
	// export of 3 spans
	// export of 2 spans
	// dropped: 0
}
