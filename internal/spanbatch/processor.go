// Package spanbatch is the SDK's batching [sdktrace.SpanProcessor]: the
// queue in front of the OTLP exporter and of the X-Ray daemon exporter
// (tracing/xrayudp.Processor). It replaces the SDK's BatchSpanProcessor on
// the request path for two reasons:
//
//   - OnEnd appends to a mutex-guarded slice and wakes the export goroutine
//     only when a batch is full; the first span after the queue was taken
//     arms the delay timer instead, so a partial batch still goes out after
//     the delay. The upstream processor sends every span through a channel,
//     which wakes its goroutine for each span: a futex system call and a
//     thread hand-off per request. Under load each wake-up also sets idle
//     threads spinning for work, so the goroutine is woken once per batch,
//     never to merely start its timer.
//   - Spans dropped because the queue is full are counted ([Processor.Dropped])
//     and reported, rate-limited, instead of only logged once.
//
// Memory is bounded: queued spans plus the batch being exported never exceed
// the queue size.
package spanbatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/configerr"
)

// Options configures a Processor. Zero fields take the OTEL_BSP_* variables
// (read through Getenv) and then the OpenTelemetry defaults.
type Options struct {
	// QueueSize bounds the spans waiting for export, the batch being
	// exported included. OTEL_BSP_MAX_QUEUE_SIZE, default 2048.
	QueueSize int
	// BatchSize is the most spans per export call.
	// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512 (at most QueueSize).
	BatchSize int
	// Delay is how long a partly filled batch waits for more spans.
	// OTEL_BSP_SCHEDULE_DELAY (milliseconds), default 5s.
	Delay time.Duration
	// ExportTimeout bounds one export call. OTEL_BSP_EXPORT_TIMEOUT
	// (milliseconds), default 30s.
	ExportTimeout time.Duration
	// Getenv reads the OTEL_BSP_* variables; nil means os.Getenv.
	Getenv func(string) string
	// Report receives problems: queue overflow (the first drop, then every
	// 1024th), a panicking exporter, unparsable OTEL_BSP_* values. The
	// caller rate-limits. An unusable OTEL_BSP_* value is a
	// *configerr.Error naming the variable and the default used. Export errors are not reported here: the
	// exporter (or a wrapper around it) owns them.
	Report func(error)

	// waiting, when set (tests), is called by the export goroutine just
	// before it blocks: lingering is true when spans are queued (a partial
	// batch waiting for the delay), wakes is the number of wake-ups
	// pending. A test that sees wakes == 0 knows the goroutine stays
	// blocked until a batch fills, the delay passes, a flush or shutdown
	// (a span that starts a batch only arms the timer): a sync point
	// instead of a sleep.
	waiting func(lingering bool, wakes int)
}

// keptCap is the most queue slots kept allocated between bursts. Larger
// queues grow on demand (OnEnd allocates only when a burst reaches a new
// size) and give the memory back once exported: a mostly empty queue of
// QueueSize pointer slots would otherwise be scanned by every garbage
// collection.
const keptCap = 4096

// ErrQueueFull is reported when spans are dropped because the queue is full.
var ErrQueueFull = errors.New("spanbatch: export queue full, dropping spans")

// Processor batches ended, sampled spans for an exporter. A nil *Processor
// is a no-op.
type Processor struct {
	exp     sdktrace.SpanExporter
	batch   int
	delay   time.Duration
	timeout time.Duration
	report  func(error)

	dropped  atomic.Uint64
	exported atomic.Uint64 // spans handed to successful export calls

	mu       sync.Mutex
	pending  []sdktrace.ReadOnlySpan // grows up to limit
	limit    int                     // queue size: pending + inFlight never exceed it
	inFlight int                     // spans taken by the goroutine, not yet exported
	closed   bool
	spare    []sdktrace.ReadOnlySpan // owned by the goroutine

	wake     chan struct{} // capacity 1: a batch is full
	timer    *time.Timer   // armed by the span that makes the queue non-empty
	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	shutErr  error // the exporter's Shutdown result; written before done is closed

	waiting func(lingering bool, wakes int) // Options.waiting
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// New starts a processor exporting to exp.
func New(exp sdktrace.SpanExporter, o Options) *Processor {
	o = o.resolve()
	p := &Processor{
		exp:      exp,
		batch:    o.BatchSize,
		delay:    o.Delay,
		timeout:  o.ExportTimeout,
		report:   o.Report,
		pending:  make([]sdktrace.ReadOnlySpan, 0, min(o.QueueSize, keptCap)),
		spare:    make([]sdktrace.ReadOnlySpan, 0, min(o.QueueSize, keptCap)),
		limit:    o.QueueSize,
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		waiting:  o.waiting,
	}
	p.timer = time.NewTimer(p.delay)
	p.timer.Stop()
	go p.run()
	return p
}

func (o Options) resolve() Options {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	// num reads a positive integer; an unusable value is reported as a
	// *configerr.Error naming the variable and def, which stays in effect.
	num := func(name, unit string, def int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			if o.Report != nil {
				o.Report(configerr.New(name, v, "not a positive "+unit, strconv.Itoa(def)))
			}
			return def
		}
		return n
	}
	if o.QueueSize <= 0 {
		o.QueueSize = num("OTEL_BSP_MAX_QUEUE_SIZE", "integer", DefaultQueueSize)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "integer", 512)
	}
	o.BatchSize = min(o.BatchSize, o.QueueSize)
	if o.Delay <= 0 {
		o.Delay = time.Duration(num("OTEL_BSP_SCHEDULE_DELAY", "number of milliseconds", 5000)) * time.Millisecond
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = time.Duration(num("OTEL_BSP_EXPORT_TIMEOUT", "number of milliseconds", 30000)) * time.Millisecond
	}
	return o
}

// DefaultQueueSize is the queue size when neither Options.QueueSize nor
// OTEL_BSP_MAX_QUEUE_SIZE sets one (the OpenTelemetry default).
const DefaultQueueSize = 2048

// Settings returns the sizes and durations in effect (Options resolved
// against the environment; Getenv and Report are not returned).
func (p *Processor) Settings() Options {
	if p == nil {
		return Options{}
	}
	return Options{QueueSize: p.limit, BatchSize: p.batch, Delay: p.delay, ExportTimeout: p.timeout}
}

// OnStart does nothing.
func (p *Processor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span. It never blocks on I/O, and does not
// allocate unless a queue larger than keptCap grows.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p == nil || s == nil || !s.SpanContext().IsSampled() {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.dropped.Add(1) // expected while shutting down: counted, not reported
		return
	}
	n := len(p.pending)
	if n+p.inFlight >= p.limit {
		p.mu.Unlock()
		if p.dropped.Add(1)%1024 == 1 && p.report != nil {
			p.report(ErrQueueFull)
		}
		return
	}
	p.pending = append(p.pending, s)
	if n+1 >= p.batch {
		p.mu.Unlock()
		if n+1 == p.batch {
			select {
			case p.wake <- struct{}{}:
			default: // already signalled
			}
		}
		return
	}
	if n == 0 {
		// The first span of a batch starts the delay. Arming the timer
		// wakes nobody; it is reset under the lock so that it always counts
		// from the latest span that found the queue empty.
		p.timer.Reset(p.delay)
	}
	p.mu.Unlock()
}

func (p *Processor) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Queued returns how many spans wait for the goroutine (not counting the
// batch it is exporting).
func (p *Processor) Queued() int { return p.queued() }

// Done is closed when the export goroutine has finished, after Shutdown.
func (p *Processor) Done() <-chan struct{} { return p.done }

func (p *Processor) run() {
	defer close(p.done)
	defer p.shutdownExporter()
	defer p.timer.Stop()
	for {
		if p.waiting != nil {
			p.waiting(p.queued() > 0, len(p.wake))
		}
		select {
		case <-p.wake:
			if p.queued() < p.batch {
				continue // left over from a batch a flush or the timer already took
			}
		case <-p.timer.C:
			// The delay since the first span of a batch has passed (or, at
			// worst, a stale firing: the spans it was armed for went out
			// with a full batch; then the queue holds younger spans, sent a
			// little early, or nothing).
		case r := <-p.flushReq:
			p.exportQueued()
			close(r)
			continue
		case <-p.stop:
			p.drain()
			return
		}
		// Export everything queued, then go on while full batches are
		// waiting; a partial batch left over waits for the timer its first
		// span armed. Flushes and shutdown are answered between batches.
		for p.exportQueued() && p.queued() >= p.batch {
			select {
			case r := <-p.flushReq:
				p.exportQueued()
				close(r)
			case <-p.stop:
				p.drain()
				return
			default:
			}
		}
	}
}

// exportQueued exports everything queued now, in batches, swapping the
// queue with the spare buffer so producers wait only for the swap. It
// reports whether there was anything to export.
func (p *Processor) exportQueued() bool {
	p.mu.Lock()
	taken := p.pending
	p.pending = p.spare[:0]
	p.inFlight = len(taken)
	p.mu.Unlock()
	if len(taken) == 0 {
		p.spare = taken
		return false
	}
	for rest := taken; len(rest) > 0; {
		n := min(len(rest), p.batch)
		p.export(rest[:n])
		rest = rest[n:]
		p.mu.Lock()
		p.inFlight = len(rest)
		p.mu.Unlock()
	}
	clear(taken) // let the spans be collected
	if cap(taken) > keptCap {
		taken = make([]sdktrace.ReadOnlySpan, 0, keptCap) // a burst's buffer is not kept
	}
	p.spare = taken[:0]
	return true
}

// export makes one export call. A panicking exporter loses its batch (counted
// as dropped and reported) but not the goroutine.
func (p *Processor) export(batch []sdktrace.ReadOnlySpan) {
	defer func() {
		if r := recover(); r != nil {
			p.dropped.Add(uint64(len(batch)))
			if p.report != nil {
				p.report(fmt.Errorf("spanbatch: exporter panicked, %d spans lost: %v", len(batch), r))
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	if p.exp.ExportSpans(ctx, batch) == nil {
		p.exported.Add(uint64(len(batch)))
	}
}

func (p *Processor) drain() {
	for p.exportQueued() {
	}
}

// shutdownExporter runs on the goroutine after its last export, so the
// exporter is never shut down while it is still exporting.
func (p *Processor) shutdownExporter() {
	defer func() {
		if r := recover(); r != nil {
			p.shutErr = fmt.Errorf("spanbatch: exporter Shutdown panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	p.shutErr = p.exp.Shutdown(ctx)
}

// ForceFlush exports every span queued before the call, or returns an error
// naming how many were still queued when ctx ended. It then flushes the
// exporter if it has a ForceFlush method.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil
	}
	r := make(chan struct{})
	select {
	case p.flushReq <- r:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return p.pendingErr("flush", ctx.Err())
	}
	select {
	case <-r:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return p.pendingErr("flush", ctx.Err())
	}
	if f, ok := p.exp.(interface{ ForceFlush(context.Context) error }); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}

// Aborter is implemented by exporters that can cut short their running and
// future exports (each then fails at once).
type Aborter interface{ Abort() }

// abortGrace is how long Shutdown waits for the goroutine after aborting the
// exporter: aborted exports fail at once, so it finishes almost at once
// unless the exporter ignores the abort.
const abortGrace = 250 * time.Millisecond

// Shutdown exports the queued spans, then shuts the exporter down (on the
// export goroutine, after its last export). Spans ended afterwards are
// dropped and counted.
//
// If ctx ends first, Shutdown returns a [*PendingError] naming how many
// spans were not exported. When the exporter is an [Aborter] it is
// aborted, so the spans still queued fail promptly and are counted by the
// exporter, and Shutdown waits briefly for that; otherwise the goroutine
// finishes in the background, each export bounded by ExportTimeout, and
// shuts the exporter down then.
func (p *Processor) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if already {
		return nil // the first call reported what was lost
	}
	p.stopOnce.Do(func() { close(p.stop) })
	select {
	case <-p.done:
		return p.shutErr
	case <-ctx.Done():
	}
	err := p.pendingErr("shutdown", ctx.Err())
	if a, ok := p.exp.(Aborter); ok {
		a.Abort()
		t := time.NewTimer(abortGrace)
		defer t.Stop()
		select {
		case <-p.done:
			return errors.Join(err, p.shutErr)
		case <-t.C:
		}
	}
	return err
}

// PendingError is returned by ForceFlush and Shutdown when their context
// ends before every span was exported.
type PendingError struct {
	Op       string // "flush" or "shutdown"
	Queued   int    // spans waiting for the goroutine
	InFlight int    // spans taken by the goroutine and not yet exported
	Err      error  // the context's error
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("spanbatch: %s: %d spans not exported: %v", e.Op, e.Queued+e.InFlight, e.Err)
}

func (e *PendingError) Unwrap() error { return e.Err }

func (p *Processor) pendingErr(op string, cause error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &PendingError{Op: op, Queued: len(p.pending), InFlight: p.inFlight, Err: cause}
}

// Dropped counts spans dropped: queue full, ended after Shutdown, or lost
// to a panicking exporter.
func (p *Processor) Dropped() uint64 {
	if p == nil {
		return 0
	}
	return p.dropped.Load()
}

// Exported counts spans in export calls that returned no error.
func (p *Processor) Exported() uint64 {
	if p == nil {
		return 0
	}
	return p.exported.Load()
}
