package xrayudp

import (
	"context"
	"errors"
	"fmt"
	"github.com/o11y-go/o11y/tracing/xraysegment"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/ipv4"

	"github.com/o11y-go/o11y/internal/report"
)

// maxKeptBuf is the largest datagram buffer a batcher keeps between batches;
// a buffer that grew past it (a big document) is released after its batch,
// so the steady-state footprint stays near sendBatch × 16 KiB at most.
const maxKeptBuf = 16 << 10

// batcher encodes spans into reusable datagram buffers and writes them up to
// sendBatch at a time, as fast as its pacer allows. It is not safe for
// concurrent use.
type batcher struct {
	enc    *xraysegment.Encoder
	out    *sender
	st     *counters
	rep    *report.Reporter
	failFn func(error) // b.failed, bound once
	costFn func(int) int
	waitFn func() bool // whether a write that timed out may try again

	writeStart time.Time // when the current chunk's write began

	pace  pacer
	ctx   context.Context // the running export's; the pacer's waits end with it
	abort <-chan struct{} // closed by Exporter.Abort and Shutdown

	n        int // datagrams encoded and not yet written
	cut      int // datagrams flush dropped (pacing wait cut short) since the export began
	sentUpTo int // during flush: datagrams of the batch already handed to the socket
	bufs     [sendBatch][]byte
	iov      [sendBatch][1][]byte
	msgs     [sendBatch]ipv4.Message
}

func (b *batcher) init(enc *xraysegment.Encoder, out *sender, st *counters, rep *report.Reporter, pace pacer, abort <-chan struct{}) {
	b.enc, b.out, b.st, b.rep = enc, out, st, rep
	b.pace, b.abort, b.ctx = pace, abort, context.Background()
	b.failFn = b.failed
	b.costFn = func(i int) int { return datagramCost(len(b.iov[b.sentUpTo+i][0])) }
	b.waitFn = b.mayWait
	for i := range b.msgs {
		b.msgs[i].Buffers = b.iov[i][:]
	}
}

// add encodes the span's datagram, preceded by its service segment for
// LOCAL_ROOT client/producer spans (see [xraysegment.Encoder.AppendLocalRootSegment]),
// writing the batch first when it is full.
func (b *batcher) add(s sdktrace.ReadOnlySpan) {
	if xraysegment.Omitted(s) {
		return // an AWS SDK phase span: its call's subsegment stands for it
	}
	enc := b.enc
	b.encode(s, func(dst []byte) ([]byte, bool) {
		if k := s.SpanKind(); k != trace.SpanKindClient && k != trace.SpanKindProducer {
			return dst, false
		}
		return enc.AppendLocalRootSegment(append(dst, header...), s)
	})
	b.encode(s, func(dst []byte) ([]byte, bool) { return appendDatagram(enc, dst, s), true })
}

func (b *batcher) encode(s sdktrace.ReadOnlySpan, fn func([]byte) ([]byte, bool)) {
	if b.n == sendBatch {
		b.flush()
	}
	buf := &b.bufs[b.n]
	if encodeSafe(buf, b.st, b.rep, s, fn) {
		b.iov[b.n][0] = *buf
		b.n++
	}
}

// flush writes the encoded datagrams, in bursts the pacer allows, and
// counts the outcome. Datagrams still unwritten when the export's context
// ends or the exporter is aborted are counted as dropped.
func (b *batcher) flush() {
	if b.n == 0 {
		return
	}
	for b.sentUpTo = 0; b.sentUpTo < b.n; {
		k := b.pace.take(b.ctx, b.abort, b.costFn, b.n-b.sentUpTo)
		if k == 0 {
			b.st.dropped.Add(uint64(b.n - b.sentUpTo))
			b.cut += b.n - b.sentUpTo
			break
		}
		b.writeStart = time.Now()
		sent := b.out.writeBatch(b.msgs[b.sentUpTo:b.sentUpTo+k], b.failFn, b.waitFn)
		b.st.sent.Add(uint64(sent))
		b.sentUpTo += k
	}
	b.sentUpTo = 0
	for i := range b.n {
		b.iov[i][0] = nil
		if cap(b.bufs[i]) > maxKeptBuf {
			b.bufs[i] = nil
		}
	}
	b.n = 0
}

// mayWait reports whether a write whose deadline passed with nothing sent
// may try again: for up to maxStall, unless the export's context ended or
// the exporter was aborted (Shutdown's deadline).
func (b *batcher) mayWait() bool {
	select {
	case <-b.abort:
		return false
	default:
	}
	return b.ctx.Err() == nil && time.Since(b.writeStart) < maxStall
}

// failed counts and reports (rate-limited) one datagram the socket refused.
func (b *batcher) failed(err error) {
	b.st.errors.Add(1)
	reportWriteErr(b.rep, b.out.addr, err)
}

func reportWriteErr(rep *report.Reporter, addr string, err error) {
	if isRefused(err) {
		rep.Report("xrayudp.refused", errors.New("xrayudp: no X-Ray daemon listening at "+addr+"; segments are being dropped"))
	} else {
		rep.Report("xrayudp.write", fmt.Errorf("xrayudp: send to %s: %w", addr, err))
	}
}
