package otlpexport

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fakeExporter returns err, or blocks until its context ends when block is set.
type fakeExporter struct {
	err      error
	block    bool
	started  chan struct{}
	shutdown int
}

func (f *fakeExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	if f.block {
		close(f.started)
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *fakeExporter) Shutdown(context.Context) error { f.shutdown++; return nil }

func stubSpans(n int) []sdktrace.ReadOnlySpan {
	return make(tracetest.SpanStubs, n).Snapshots()
}

func TestAbortableCounts(t *testing.T) {
	tests := []struct {
		name             string
		err              error
		wantErr          bool
		exported, failed uint64
		reports          int
	}{
		{"ok", nil, false, 4, 0, 0},
		{"failed", errors.New("refused"), true, 0, 4, 1},
		{"partial", &PartialSuccess{Rejected: 3, Message: "bad"}, false, 1, 3, 1},
		{"partial beyond the batch", &PartialSuccess{Rejected: 9}, false, 0, 4, 1},
		{"negative partial", &PartialSuccess{Rejected: -1}, false, 4, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var reports []error
			a := NewAbortable(&fakeExporter{err: tc.err}, func(err error) { reports = append(reports, err) })
			err := a.ExportSpans(context.Background(), stubSpans(4))
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			assert.Equal(t, tc.exported, a.Exported())
			assert.Equal(t, tc.failed, a.Failed())
			assert.Len(t, reports, tc.reports)
		})
	}
}

func TestAbortCancelsARunningExport(t *testing.T) {
	f := &fakeExporter{block: true, started: make(chan struct{})}
	a := NewAbortable(f, nil)
	done := make(chan error, 1)
	go func() { done <- a.ExportSpans(context.Background(), stubSpans(2)) }()
	<-f.started
	a.Abort()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(2), a.Failed())
	require.NoError(t, a.Shutdown(context.Background()))
	assert.Equal(t, 1, f.shutdown)
	a.Abort() // twice is fine
}
