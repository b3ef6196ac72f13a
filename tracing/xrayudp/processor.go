package xrayudp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/report"
	"github.com/o11y-go/o11y/internal/spanbatch"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// Options configures [NewSpanProcessor] and [NewExporter]. The zero value
// sends to 127.0.0.1:2000 with a 2048-span queue.
type Options struct {
	// DaemonAddress is an AWS_XRAY_DAEMON_ADDRESS value ("host:port" or
	// "tcp:host:port udp:host:port"); see [ParseDaemonAddress].
	DaemonAddress string
	// Segments controls the span → segment translation.
	Segments xraysegment.Config
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
	// SendRate bounds how fast datagrams are sent, in bytes per second of
	// the daemon's receive buffer (a datagram counts what Linux charges the
	// buffer for it: a 1 KiB segment counts about 2.3 KiB). The daemon
	// keeps the kernel-default buffer and reads it with one goroutine, and
	// UDP loss is invisible to the sender, so sending faster only loses
	// segments. Default [DefaultSendRate]; negative sends unpaced. When
	// spans end faster than this for longer than the queue absorbs, they
	// are dropped and counted. Where the daemon's socket is visible (Linux,
	// same network namespace: an ECS sidecar, or both on the host network)
	// the sender reads that socket's receive queue instead and writes only
	// while it is under half the buffer, SendBurst bytes between two looks;
	// SendRate paces elsewhere. A daemon that stops reading costs the batch
	// in hand and later batches until it reads again (dropped and counted).
	SendRate int
	// SendBurst is the most receive-buffer bytes sent back to back.
	// Default [DefaultSendBurst].
	SendBurst int

	clock      clock // tests inject a fake clock; nil is the real one
	noFeedback bool  // tests of the token bucket turn the receive-queue feedback off
}

// Stats counts what happened to the spans handed to a Processor or Exporter.
// A span is one datagram, except a LOCAL_ROOT client or producer span,
// which is two (its service segment and itself).
type Stats struct {
	Sent    uint64 // datagrams written to the socket
	Dropped uint64 // spans dropped: queue full, after Shutdown, or (datagrams) not sent by Shutdown's deadline
	Errors  uint64 // failed writes (including "no daemon listening")
	Trimmed uint64 // documents trimmed to fit one datagram
	// DaemonDrops counts datagrams the daemon's socket dropped because its
	// receive buffer was full (from any sender), since the exporter first
	// saw it. The sender paces so this stays 0; it is known only where the
	// daemon's socket is visible (Linux, same network namespace: an ECS
	// sidecar, or both on the host network), else it stays 0.
	DaemonDrops uint64
}

type counters struct {
	sent, dropped, errors, daemonDrops atomic.Uint64
}

// Processor is an [sdktrace.SpanProcessor] that sends each sampled span,
// once ended, to the X-Ray daemon as one UDP datagram. OnEnd never blocks
// and, with queues up to 4096 spans, never allocates: spans go into a
// bounded queue (dropped and counted when it is full) drained by one
// goroutine, which encodes them in batches and writes each batch with one
// system call where the platform allows (sendmmsg on Linux). A nil
// *Processor is a no-op.
//
// The goroutine is woken once per batch, not once per span: as soon as 256
// spans are waiting, or 10 ms after the first span of a batch was queued,
// whichever comes first. It writes them 64 datagrams per system call. The
// queue is the SDK's shared batching processor (internal/spanbatch)
// feeding an [Exporter].
type Processor struct {
	x    *Exporter
	q    *spanbatch.Processor
	done <-chan struct{} // closed when the goroutine has finished
}

// sendBatch is the most datagrams the Processor writes with one system
// call.
const sendBatch = 64

// wakeBatch is the queue length at which the Processor wakes its goroutine
// before the linger time is up: several sendmmsg batches per wake-up, since
// under load each wake-up of an idle thread costs more CPU than a system
// call (see docs/BENCHMARKS.md).
const wakeBatch = 4 * sendBatch

// linger is how long the Processor waits after the first span of a quiet
// period for a batch to fill before sending what it has.
const linger = 10 * time.Millisecond

var _ sdktrace.SpanProcessor = (*Processor)(nil)

var errQueueFull = errors.New("xrayudp: span queue full, dropping spans")

// NewSpanProcessor starts a processor sending to opts.DaemonAddress. It does
// not touch the network (the socket is dialled by the background goroutine),
// so it fails only on an unparseable address.
func NewSpanProcessor(opts Options) (*Processor, error) {
	x, err := NewExporter(opts)
	if err != nil {
		return nil, err
	}
	size := opts.QueueSize
	if size <= 0 {
		size = 2048
	}
	rep := x.rep
	q := spanbatch.New(x, spanbatch.Options{
		QueueSize:     size,
		BatchSize:     wakeBatch,
		Delay:         linger,
		ExportTimeout: 30 * time.Second,                  // each write is bounded by WriteTimeout anyway
		Getenv:        func(string) string { return "" }, // OTEL_BSP_* are for the OTLP path
		Report: func(err error) {
			if errors.Is(err, spanbatch.ErrQueueFull) {
				rep.Report("xrayudp.drop", errQueueFull)
			} else {
				rep.Report("xrayudp.batch", err)
			}
		},
	})
	return &Processor{x: x, q: q, done: q.Done()}, nil
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
// does not allocate unless a queue larger than 4096 spans grows.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p == nil {
		return
	}
	p.q.OnEnd(s)
}

// queued returns how many spans wait in the queue (not yet taken by the
// goroutine).
func (p *Processor) queued() int { return p.q.Queued() }

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
	return jsonenc.TruncateUTF8(s.Name(), 100)
}

// ForceFlush sends every queued span before returning, or returns an error
// naming how many were still queued when ctx ended.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return pendingErr(p.q.ForceFlush(ctx))
}

// Shutdown sends the queued spans, closes the socket and stops the
// goroutine. Spans ended afterwards are dropped. If ctx ends first it
// returns an error naming how many spans were not sent (the goroutine still
// finishes in the background, each write bounded by WriteTimeout, and then
// closes the socket).
func (p *Processor) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return pendingErr(p.q.Shutdown(ctx))
}

// pendingErr words the batch processor's "not exported" error for X-Ray.
func pendingErr(err error) error {
	var pe *spanbatch.PendingError
	if !errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("xrayudp: %s: %s spans not sent (and %s being sent): %w",
		pe.Op, strconv.Itoa(pe.Queued), strconv.Itoa(pe.InFlight), pe.Err)
}

// Stats returns the processor's counters.
func (p *Processor) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	st := p.x.Stats()
	st.Dropped += p.q.Dropped()
	return st
}

// QueueSize returns the number of spans the queue holds before drops start
// (Options.QueueSize, or 2048).
func (p *Processor) QueueSize() int {
	if p == nil {
		return 0
	}
	return p.q.Settings().QueueSize
}
