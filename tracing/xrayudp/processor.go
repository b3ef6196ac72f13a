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
	"go.opentelemetry.io/otel/trace"
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
// once ended, to the X-Ray daemon as one UDP datagram. OnEnd never blocks:
// spans go into a bounded queue drained by one goroutine, and are dropped and
// counted when it is full. A nil *Processor is a no-op.
type Processor struct {
	enc  *Encoder
	out  sender
	rep  *report.Reporter
	stat counters

	queue    chan sdktrace.ReadOnlySpan
	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	stopOnce sync.Once
}

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
		queue:    make(chan sdktrace.ReadOnlySpan, size),
		flushReq: make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
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

// OnEnd queues a sampled span for sending. It never blocks.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p == nil || s == nil || !s.SpanContext().IsSampled() {
		return
	}
	if p.closed.Load() {
		p.stat.dropped.Add(1) // counted, not reported: expected while shutting down
		return
	}
	select {
	case p.queue <- s:
	default:
		p.drop()
	}
}

func (p *Processor) drop() {
	// Report the first drop and then every 1024th: cheap under overload.
	if p.stat.dropped.Add(1)%1024 == 1 {
		p.rep.Report("xrayudp.drop", errQueueFull)
	}
}

func (p *Processor) run() {
	defer close(p.done)
	defer p.out.close()
	for {
		select {
		case s := <-p.queue:
			p.send(s)
		case r := <-p.flushReq:
			p.drain()
			close(r)
		case <-p.stop:
			p.drain()
			return
		}
	}
}

func (p *Processor) drain() {
	for {
		select {
		case s := <-p.queue:
			p.send(s)
		default:
			return
		}
	}
}

func (p *Processor) send(s sdktrace.ReadOnlySpan) {
	b := getBuf()
	sendSpan(p.enc, &p.out, b, s, &p.stat, p.rep)
	putBuf(b)
}

// sendSpan writes the span's datagram, preceded by its service segment for
// LOCAL_ROOT client/producer spans (see [Encoder.AppendLocalRootSegment]).
func sendSpan(enc *Encoder, out *sender, b *[]byte, s sdktrace.ReadOnlySpan, st *counters, rep *report.Reporter) {
	if encodeSafe(b, st, rep, s, func(dst []byte) ([]byte, bool) {
		if k := s.SpanKind(); k != trace.SpanKindClient && k != trace.SpanKindProducer {
			return dst, false
		}
		return enc.AppendLocalRootSegment(append(dst, Header...), s)
	}) {
		_ = sendDatagram(out, *b, st, rep)
	}
	if encodeSafe(b, st, rep, s, func(dst []byte) ([]byte, bool) { return enc.AppendDatagram(dst, s), true }) {
		_ = sendDatagram(out, *b, st, rep)
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

func sendDatagram(out *sender, b []byte, st *counters, rep *report.Reporter) error {
	if err := out.write(b); err != nil {
		st.errors.Add(1)
		if isRefused(err) {
			rep.Report("xrayudp.refused", errors.New("xrayudp: no X-Ray daemon listening at "+out.addr+"; segments are being dropped"))
		} else {
			rep.Report("xrayudp.write", fmt.Errorf("xrayudp: send to %s: %w", out.addr, err))
		}
		return err
	}
	st.sent.Add(1)
	return nil
}

// ForceFlush sends every queued span before returning, or returns an error
// naming how many were still queued when ctx ended.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if p == nil || p.closed.Load() {
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
	p.closed.Store(true)
	p.stopOnce.Do(func() { close(p.stop) })
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return p.pendingErr("shutdown", ctx.Err())
	}
}

func (p *Processor) pendingErr(op string, cause error) error {
	return fmt.Errorf("xrayudp: %s: %s spans not sent: %w", op, strconv.Itoa(len(p.queue)), cause)
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
