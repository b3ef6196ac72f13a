package xrayudp

import (
	"context"
	"errors"
	"fmt"
	"github.com/o11y-go/o11y/tracing/xraysegment"
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
	enc    *xraysegment.Encoder
	out    sender
	rep    *report.Reporter
	stat   counters
	closed atomic.Bool

	probe rxProbe // reads the daemon socket's receive queue (Linux)

	abortOnce sync.Once
	abort     chan struct{} // closed by Abort or Shutdown
	aborted   atomic.Bool

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
		enc:   xraysegment.NewEncoder(opts.Segments),
		out:   sender{addr: udp, timeout: writeTimeout(opts)},
		rep:   report.New(opts.ErrorHandler, opts.ReportInterval),
		abort: make(chan struct{}),
	}
	clk := opts.clock
	if clk == nil {
		clk = newRealClock()
	}
	pace := newPacer(sendRate(opts), sendBurst(opts), clk)
	pace.rxDrops = &x.stat.daemonDrops
	if !opts.noFeedback {
		pace.withFeedback(&x.probe, x.out.addrs)
	}
	rep := x.rep
	pace.stalled = func(n uint64) {
		rep.Report("xrayudp.stalled", fmt.Errorf("xrayudp: the X-Ray daemon at %s has not read its socket for %v; dropping segments", udp, maxStall))
	}
	x.bat.init(x.enc, &x.out, &x.stat, x.rep, pace, x.abort)
	return x, nil
}

func sendRate(o Options) int {
	switch {
	case o.SendRate < 0:
		return 0 // unpaced
	case o.SendRate == 0:
		return DefaultSendRate
	}
	return o.SendRate
}

func sendBurst(o Options) int {
	if o.SendBurst > 0 {
		return o.SendBurst
	}
	return DefaultSendBurst
}

// ExportSpans sends each sampled span as one datagram, up to 64
// datagrams per system call, paced by Options.SendRate and SendBurst (it
// waits rather than overrun the daemon's receive buffer). Socket failures
// are counted and reported through Options.ErrorHandler (rate-limited), not
// returned, so a missing daemon never floods the OTel error handler; the
// only error is ctx ending (or [Exporter.Abort]) before every span was
// sent: what was not sent is counted as dropped.
func (x *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if x == nil || x.closed.Load() {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.bat.ctx, x.bat.cut = ctx, 0
	err := x.add(ctx, spans)
	x.bat.flush()
	x.bat.ctx = context.Background()
	if err == nil && x.bat.cut > 0 {
		err = ctx.Err()
		if err == nil && x.aborted.Load() {
			err = errAborted
		}
		if err == nil {
			err = errStalled
		}
		err = fmt.Errorf("xrayudp: export: %d datagrams not sent: %w", x.bat.cut, err)
	}
	return err
}

// add encodes the sampled spans into the batcher (which writes full
// batches as it goes).
func (x *Exporter) add(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	for i, s := range spans {
		if ctx.Err() != nil || x.aborted.Load() {
			n := 0
			for _, s := range spans[i:] {
				if s != nil && s.SpanContext().IsSampled() {
					n++
				}
			}
			x.stat.dropped.Add(uint64(n))
			err := ctx.Err()
			if err == nil {
				err = errAborted
			}
			return fmt.Errorf("xrayudp: export: %d spans not sent: %w", n, err)
		}
		if s == nil || !s.SpanContext().IsSampled() {
			continue
		}
		x.bat.add(s)
	}
	return nil
}

var (
	errAborted = errors.New("xrayudp: exporter aborted (shutdown deadline passed)")
	errStalled = errors.New("xrayudp: the daemon's receive buffer stayed full")
)

// Abort makes the running export and every later one give up at once: what
// they have not sent is counted as dropped. The SDK's span queue calls it
// when Shutdown's deadline passes, so Shutdown stays bounded however much
// the pacing still had to send.
func (x *Exporter) Abort() {
	if x == nil {
		return
	}
	x.aborted.Store(true)
	x.abortOnce.Do(func() { close(x.abort) })
}

// Shutdown stops a running export (what it has not sent is counted as
// dropped) and closes the socket; later exports do nothing.
func (x *Exporter) Shutdown(context.Context) error {
	if x == nil || !x.closed.CompareAndSwap(false, true) {
		return nil
	}
	x.Abort()
	x.mu.Lock() // wait for a running export to count what it dropped
	defer x.mu.Unlock()
	x.probe.close()
	return x.out.close()
}

// Stats returns the exporter's counters.
func (x *Exporter) Stats() Stats {
	if x == nil {
		return Stats{}
	}
	return Stats{Sent: x.stat.sent.Load(), Dropped: x.stat.dropped.Load(), Errors: x.stat.errors.Load(), Trimmed: x.enc.Trimmed(),
		DaemonDrops: x.stat.daemonDrops.Load()}
}
