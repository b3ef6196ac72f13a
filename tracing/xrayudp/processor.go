package xrayudp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/o11y-go/o11y/internal/report"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options configures [NewSpanProcessor] and [NewExporter]. The zero value
// sends to 127.0.0.1:2000 with a 2048-span queue.
type Options struct {
	// DaemonAddress is an AWS_XRAY_DAEMON_ADDRESS value ("host:port" or
	// "tcp:host:port udp:host:port"); see [ParseDaemonAddress].
	DaemonAddress string
	// Segments controls the span → segment translation.
	Segments Config
	// QueueSize bounds the spans waiting to be sent (processor only).
	// Default 2048. When full, spans are dropped and counted.
	QueueSize int
	// WriteTimeout bounds each datagram write and the dial. Default 100ms.
	WriteTimeout time.Duration
	// ErrorHandler receives send failures and drop notices, rate-limited to
	// one per kind per ReportInterval. Nil discards them (Stats still counts).
	ErrorHandler func(error)
	// ReportInterval is the rate limit for ErrorHandler. Default 1 minute.
	ReportInterval time.Duration
}

// Stats counts what happened to the spans handed to a Processor or Exporter.
type Stats struct {
	Sent    uint64 // datagrams written to the socket
	Dropped uint64 // spans dropped: queue full or after Shutdown
	Errors  uint64 // failed writes (including "no daemon listening")
	Trimmed uint64 // documents trimmed to fit one datagram
}

type counters struct {
	sent, dropped, errors atomic.Uint64
}

// Processor is an [sdktrace.SpanProcessor] that sends each sampled span,
// once ended, to the X-Ray daemon as one UDP datagram. OnEnd never blocks
// and, with queues up to 4096 spans, never allocates: spans go into a bounded queue (dropped and counted
// when it is full) drained by one goroutine, which encodes them in batches
// and writes each batch with one system call where the platform allows
// (sendmmsg on Linux). A nil *Processor is a no-op.
//
// The goroutine is woken once per batch, not once per span: by the first
// span queued after it went idle (it then lingers up to [Linger] for more),
// or as soon as [SendBatch] spans are waiting.
type Processor struct {
	enc  *Encoder
	out  sender
	rep  *report.Reporter
	stat counters
	bat  batcher // owned by the goroutine

	mu      sync.Mutex
	pending []sdktrace.ReadOnlySpan // grows up to limit; guarded by mu
	limit   int                     // queue size: pending + inFlight never exceed it
	// inFlight is the size of the batch the goroutine is sending; guarded by mu.
	inFlight int
	closed   bool                    // guarded by mu
	spare    []sdktrace.ReadOnlySpan // the other buffer; owned by the goroutine

	wake     chan struct{} // capacity 1: "spans are waiting"
	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// keptCap is the most queue slots kept allocated between bursts. Larger
// queues grow on demand and give the memory back once sent: a mostly empty
// queue of QueueSize pointer slots would otherwise be scanned by every
// garbage collection.
const keptCap = 4096

// SendBatch is the most datagrams the Processor writes with one system
// call, and the queue length at which it wakes its goroutine early.
const SendBatch = 64

// Linger is how long the Processor waits after the first span of a quiet
// period for a batch to fill before sending what it has.
const Linger = 10 * time.Millisecond

var _ sdktrace.SpanProcessor = (*Processor)(nil)

var errQueueFull = errors.New("xrayudp: span queue full, dropping spans")

// NewSpanProcessor starts a processor sending to opts.DaemonAddress. It does
// not touch the network (the socket is dialled by the background goroutine),
// so it fails only on an unparseable address.
func NewSpanProcessor(opts Options) (*Processor, error) {
	udp, _, err := ParseDaemonAddress(opts.DaemonAddress)
	if err != nil {
		return nil, err
	}
	size := opts.QueueSize
	if size <= 0 {
		size = 2048
	}
	p := &Processor{
		enc:      NewEncoder(opts.Segments),
		out:      sender{addr: udp, timeout: writeTimeout(opts)},
		rep:      report.New(opts.ErrorHandler, opts.ReportInterval),
		pending:  make([]sdktrace.ReadOnlySpan, 0, min(size, keptCap)),
		spare:    make([]sdktrace.ReadOnlySpan, 0, min(size, keptCap)),
		limit:    size,
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	p.bat.init(p.enc, &p.out, &p.stat, p.rep)
	go p.run()
	return p, nil
}

func writeTimeout(o Options) time.Duration {
	if o.WriteTimeout > 0 {
		return o.WriteTimeout
	}
	return 100 * time.Millisecond
}

// OnStart does nothing.
func (p *Processor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span for sending. It never blocks on I/O and
// does not allocate unless a queue larger than [keptCap] grows.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p == nil || s == nil || !s.SpanContext().IsSampled() {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.stat.dropped.Add(1) // counted, not reported: expected while shutting down
		return
	}
	n := len(p.pending)
	// The bound covers the batch being sent too: waiting + in flight never
	// exceeds QueueSize, so memory stays at QueueSize spans.
	if n+p.inFlight >= p.limit {
		p.mu.Unlock()
		p.drop()
		return
	}
	p.pending = append(p.pending, s)
	p.mu.Unlock()
	if n == 0 || n+1 == SendBatch {
		select {
		case p.wake <- struct{}{}:
		default: // already signalled
		}
	}
}

func (p *Processor) drop() {
	// Report the first drop and then every 1024th: cheap under overload.
	if p.stat.dropped.Add(1)%1024 == 1 {
		p.rep.Report("xrayudp.drop", errQueueFull)
	}
}

// queued returns how many spans wait in the queue (not yet taken by the
// goroutine).
func (p *Processor) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

func (p *Processor) run() {
	defer close(p.done)
	defer p.out.close()
	linger := time.NewTimer(Linger)
	linger.Stop()
	for {
		// Idle: wait for the first span.
		select {
		case <-p.wake:
		case r := <-p.flushReq:
			p.sendQueued()
			close(r)
			continue
		case <-p.stop:
			p.drain()
			return
		}
		// Spans are waiting: give a batch the chance to fill.
		if p.queued() < SendBatch {
			linger.Reset(Linger)
			select {
			case <-p.wake: // a batch is full
			case <-linger.C:
			case r := <-p.flushReq:
				p.sendQueued()
				close(r)
			case <-p.stop:
				linger.Stop()
				p.drain()
				return
			}
			linger.Stop()
		}
		// Send until the queue is empty. Between swaps, answer a flush (one
		// more swap sends everything queued before it) or a shutdown, so
		// neither waits for a sustained stream of spans to pause.
		for p.sendQueued() {
			select {
			case r := <-p.flushReq:
				p.sendQueued()
				close(r)
			case <-p.stop:
				p.drain()
				return
			default:
			}
		}
	}
}

// sendQueued sends everything queued now, swapping the queue with the spare
// buffer so producers are held up only for the swap. It reports whether
// there was anything to send.
func (p *Processor) sendQueued() bool {
	p.mu.Lock()
	batch := p.pending
	p.pending = p.spare[:0]
	p.inFlight = len(batch)
	p.mu.Unlock()
	if len(batch) == 0 {
		p.spare = batch
		return false
	}
	p.bat.send(batch)
	clear(batch) // let the spans be collected
	if cap(batch) > keptCap {
		batch = make([]sdktrace.ReadOnlySpan, 0, keptCap) // a burst's buffer is not kept
	}
	p.spare = batch[:0]
	p.mu.Lock()
	p.inFlight = 0
	p.mu.Unlock()
	return true
}

// drain sends until the queue stays empty (after Shutdown no span is added).
func (p *Processor) drain() {
	for p.sendQueued() {
	}
}

// encodeSafe encodes s into *b. A panic (a bug, or a foreign ReadOnlySpan
// implementation misbehaving) must not take the application down from a
// background goroutine: it is counted and reported instead.
func encodeSafe(b *[]byte, st *counters, rep *report.Reporter, s sdktrace.ReadOnlySpan, encode func([]byte) ([]byte, bool)) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			st.errors.Add(1)
			rep.Report("xrayudp.encode", fmt.Errorf("xrayudp: encoding span %q panicked: %v", safeName(s), r))
			*b = (*b)[:0]
			ok = false
		}
	}()
	*b, ok = encode((*b)[:0])
	return ok
}

func safeName(s sdktrace.ReadOnlySpan) (name string) {
	defer func() { _ = recover() }()
	return truncBytes(s.Name(), 100)
}

// ForceFlush sends every queued span before returning, or returns an error
// naming how many were still queued when ctx ended.
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
		return nil
	case <-p.done: // shut down meanwhile; Shutdown reports what was lost
		return nil
	case <-ctx.Done():
		return p.pendingErr("flush", ctx.Err())
	}
}

// Shutdown sends the queued spans, closes the socket and stops the
// goroutine. Spans ended afterwards are dropped. If ctx ends first it
// returns an error naming how many spans were not sent (the goroutine still
// finishes in the background, each write bounded by WriteTimeout).
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
		return nil
	case <-ctx.Done():
		return p.pendingErr("shutdown", ctx.Err())
	}
}

func (p *Processor) pendingErr(op string, cause error) error {
	return fmt.Errorf("xrayudp: %s: %s spans not sent: %w", op, strconv.Itoa(p.queued()), cause)
}

// Stats returns the processor's counters.
func (p *Processor) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	return Stats{
		Sent:    p.stat.sent.Load(),
		Dropped: p.stat.dropped.Load(),
		Errors:  p.stat.errors.Load(),
		Trimmed: p.enc.Trimmed(),
	}
}

// Encoder returns the processor's encoder (for tests and tools).
func (p *Processor) Encoder() *Encoder {
	if p == nil {
		return nil
	}
	return p.enc
}
