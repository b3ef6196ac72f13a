package otlpexport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Abortable lets the SDK's Shutdown cut short an export that is still running
// when the shutdown deadline passes (spanbatch calls Abort then). Without it
// an export against a collector that refuses or never answers keeps retrying
// until its own timeout, keeping goroutines and connections alive long after
// Shutdown returned.
//
// It also counts exported and failed spans (a partial success counts the
// rejected spans as failed) and reports failures to the SDK's ErrorHandler,
// rate-limited.
type Abortable struct {
	sdktrace.SpanExporter
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	report func(error)

	exported, failed atomic.Uint64
}

// NewAbortable wraps e; report, if not nil, receives each failure.
func NewAbortable(e sdktrace.SpanExporter, report func(error)) *Abortable {
	ctx, cancel := context.WithCancel(context.Background())
	return &Abortable{SpanExporter: e, ctx: ctx, cancel: cancel, report: report}
}

// ExportSpans exports under a context that abort also cancels.
func (a *Abortable) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unlink := context.AfterFunc(a.ctx, stop)
	defer unlink()
	err := a.SpanExporter.ExportSpans(ctx, spans)
	var partial *PartialSuccess
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
func (a *Abortable) Shutdown(ctx context.Context) error {
	err := a.SpanExporter.Shutdown(ctx)
	a.Abort()
	return err
}

// Abort cancels running and future exports (spanbatch.Aborter): the batch
// processor calls it when its Shutdown deadline passes.
func (a *Abortable) Abort() { a.once.Do(a.cancel) }

// Exported is the number of spans the collector accepted.
func (a *Abortable) Exported() uint64 { return a.exported.Load() }

// Failed is the number of spans that failed or the collector rejected.
func (a *Abortable) Failed() uint64 { return a.failed.Load() }
