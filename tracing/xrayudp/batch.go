package xrayudp

import (
	"errors"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/ipv4"

	"github.com/o11y-go/o11y/internal/report"
)

// maxKeptBuf is the largest datagram buffer a batcher keeps between batches;
// a buffer that grew past it (a big document) is released after its batch,
// so the steady-state footprint stays near SendBatch × 16 KiB at most.
const maxKeptBuf = 16 << 10

// batcher encodes spans into reusable datagram buffers and writes them up to
// SendBatch at a time. It is not safe for concurrent use.
type batcher struct {
	enc    *Encoder
	out    *sender
	st     *counters
	rep    *report.Reporter
	failFn func(error) // b.failed, bound once

	n    int // datagrams encoded and not yet written
	bufs [SendBatch][]byte
	iov  [SendBatch][1][]byte
	msgs [SendBatch]ipv4.Message
}

func (b *batcher) init(enc *Encoder, out *sender, st *counters, rep *report.Reporter) {
	b.enc, b.out, b.st, b.rep = enc, out, st, rep
	b.failFn = b.failed
	for i := range b.msgs {
		b.msgs[i].Buffers = b.iov[i][:]
	}
}

// add encodes the span's datagram, preceded by its service segment for
// LOCAL_ROOT client/producer spans (see [Encoder.AppendLocalRootSegment]),
// writing the batch first when it is full.
func (b *batcher) add(s sdktrace.ReadOnlySpan) {
	enc := b.enc
	b.encode(s, func(dst []byte) ([]byte, bool) {
		if k := s.SpanKind(); k != trace.SpanKindClient && k != trace.SpanKindProducer {
			return dst, false
		}
		return enc.AppendLocalRootSegment(append(dst, Header...), s)
	})
	b.encode(s, func(dst []byte) ([]byte, bool) { return enc.AppendDatagram(dst, s), true })
}

func (b *batcher) encode(s sdktrace.ReadOnlySpan, fn func([]byte) ([]byte, bool)) {
	if b.n == SendBatch {
		b.flush()
	}
	buf := &b.bufs[b.n]
	if encodeSafe(buf, b.st, b.rep, s, fn) {
		b.iov[b.n][0] = *buf
		b.n++
	}
}

// flush writes the encoded datagrams and counts the outcome.
func (b *batcher) flush() {
	if b.n == 0 {
		return
	}
	sent := b.out.writeBatch(b.msgs[:b.n], b.failFn)
	b.st.sent.Add(uint64(sent))
	for i := range b.n {
		b.iov[i][0] = nil
		if cap(b.bufs[i]) > maxKeptBuf {
			b.bufs[i] = nil
		}
	}
	b.n = 0
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
