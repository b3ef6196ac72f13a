package o11y

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/otlpexport"
)

// abortableExporter lets Shutdown cut short an export that is still running
// when the shutdown deadline passes (spanbatch calls Abort then). Without it
// an export against a collector that refuses or never answers keeps retrying
// until its own timeout, keeping goroutines and connections alive long after
// Shutdown returned.
//
// It also counts exported and failed spans (a partial success counts the
// rejected spans as failed) and reports failures to the SDK's ErrorHandler,
// rate-limited.
type abortableExporter struct {
	sdktrace.SpanExporter
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	report func(error)

	exported, failed atomic.Uint64
}

func newAbortableExporter(e sdktrace.SpanExporter, report func(error)) *abortableExporter {
	ctx, cancel := context.WithCancel(context.Background())
	return &abortableExporter{SpanExporter: e, ctx: ctx, cancel: cancel, report: report}
}

// ExportSpans exports under a context that abort also cancels.
func (a *abortableExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unlink := context.AfterFunc(a.ctx, stop)
	defer unlink()
	err := a.SpanExporter.ExportSpans(ctx, spans)
	var partial *otlpexport.PartialSuccess
	if errors.As(err, &partial) {
		// Delivered, but the collector refused some spans: count those as
		// failed and report; the batch processor has nothing to add.
		rejected := uint64(min(max(partial.Rejected, 0), int64(len(spans))))
		a.failed.Add(rejected)
		a.exported.Add(uint64(len(spans)) - rejected)
		if a.report != nil {
			a.report(fmt.Errorf("o11y: OTLP export: %w", err))
		}
		return nil
	}
	if err != nil {
		a.failed.Add(uint64(len(spans)))
		if a.report != nil {
			a.report(fmt.Errorf("o11y: OTLP export of %d spans failed: %w", len(spans), err))
		}
	} else {
		a.exported.Add(uint64(len(spans)))
	}
	return err
}

// Shutdown shuts the wrapped exporter down; an already aborted exporter
// still closes its connection.
func (a *abortableExporter) Shutdown(ctx context.Context) error {
	err := a.SpanExporter.Shutdown(ctx)
	a.Abort()
	return err
}

// Abort cancels running and future exports (spanbatch.Aborter): the batch
// processor calls it when its Shutdown deadline passes.
func (a *abortableExporter) Abort() { a.once.Do(a.cancel) }
