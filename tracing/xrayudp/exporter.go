package xrayudp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/o11y-go/o11y/internal/report"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter is an [sdktrace.SpanExporter] writing one daemon datagram per
// span, for use with the SDK's BatchSpanProcessor. It shares the encoder
// with [Processor]; a missing daemon is counted, not returned as an error.
// A nil *Exporter is a no-op.
type Exporter struct {
	enc    *Encoder
	out    sender
	rep    *report.Reporter
	stat   counters
	closed atomic.Bool

	mu  sync.Mutex // serialises exports (bat is not concurrency-safe)
	bat batcher
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// NewExporter returns an Exporter for opts (QueueSize is ignored). It fails
// only on an unparseable address.
func NewExporter(opts Options) (*Exporter, error) {
	udp, _, err := ParseDaemonAddress(opts.DaemonAddress)
	if err != nil {
		return nil, err
	}
	x := &Exporter{
		enc: NewEncoder(opts.Segments),
		out: sender{addr: udp, timeout: writeTimeout(opts)},
		rep: report.New(opts.ErrorHandler, opts.ReportInterval),
	}
	x.bat.init(x.enc, &x.out, &x.stat, x.rep)
	return x, nil
}

// ExportSpans sends each sampled span as one datagram, up to [SendBatch]
// datagrams per system call. Socket failures are
// counted and reported through Options.ErrorHandler (rate-limited), not
// returned, so a missing daemon never floods the OTel error handler; the
// only error is ctx ending before every span was tried.
func (x *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if x == nil || x.closed.Load() {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	defer x.bat.flush()
	for i, s := range spans {
		if ctx.Err() != nil {
			x.stat.dropped.Add(uint64(len(spans) - i))
			return fmt.Errorf("xrayudp: export: %d spans not sent: %w", len(spans)-i, ctx.Err())
		}
		if s == nil || !s.SpanContext().IsSampled() {
			continue
		}
		x.bat.add(s)
	}
	return nil
}

// Shutdown closes the socket; later exports do nothing.
func (x *Exporter) Shutdown(context.Context) error {
	if x == nil || !x.closed.CompareAndSwap(false, true) {
		return nil
	}
	return x.out.close()
}

// Stats returns the exporter's counters.
func (x *Exporter) Stats() Stats {
	if x == nil {
		return Stats{}
	}
	return Stats{Sent: x.stat.sent.Load(), Dropped: x.stat.dropped.Load(), Errors: x.stat.errors.Load(), Trimmed: x.enc.Trimmed()}
}
