package metrics

import (
	"context"
	"fmt"
	"io"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/internal/report"
	"github.com/o11y-go/o11y/internal/xrayid"
)

// sink receives complete lines (each ending in '\n'). writeLine must not
// retain line and must not block on the network.
type sink interface {
	writeLine(line []byte) error
	flush(ctx context.Context) error
	close(ctx context.Context) error
}

// writerSink writes each line with one Write call. A *linewriter.Writer is
// used as is (it serialises with the log handler); any other writer is
// wrapped in one.
type writerSink struct{ w *linewriter.Writer }

func newWriterSink(w io.Writer) *writerSink {
	if lw, ok := w.(*linewriter.Writer); ok {
		return &writerSink{w: lw}
	}
	return &writerSink{w: linewriter.New(w)}
}

func (s *writerSink) writeLine(line []byte) error {
	n, err := s.w.Write(line)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	return err
}

func (s *writerSink) flush(context.Context) error { return nil }
func (s *writerSink) close(context.Context) error { return nil }

// maxPending bounds the bytes kept for a writer that failed.
const maxPending = 1 << 20

// pendingLines keeps lines a sink refused, oldest first, within maxPending
// bytes; the oldest are dropped (and counted) beyond that.
type pendingLines struct {
	mu      sync.Mutex
	lines   [][]byte
	bytes   int
	dropped uint64
}

func (p *pendingLines) add(line []byte, rep *report.Reporter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, append([]byte(nil), line...))
	p.bytes += len(line)
	for p.bytes > maxPending && len(p.lines) > 0 {
		p.bytes -= len(p.lines[0])
		p.lines[0] = nil
		p.lines = p.lines[1:]
		p.dropped++
		rep.Report("metrics.sink.dropped", fmt.Errorf("metrics: %d EMF lines dropped: sink failing and %d bytes already kept", p.dropped, maxPending))
	}
}

// retry writes kept lines in order and stops at the first failure.
func (p *pendingLines) retry(s sink) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.lines) > 0 {
		if err := s.writeLine(p.lines[0]); err != nil {
			return err
		}
		p.bytes -= len(p.lines[0])
		p.lines[0] = nil
		p.lines = p.lines[1:]
	}
	p.lines = nil
	return nil
}

func (p *pendingLines) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// quoted returns s as a JSON string property, cut to maxPropLen bytes.
func quoted(s string) []byte {
	return jsonenc.AppendStringTrunc(nil, s, maxPropLen, "…")
}

func quotedTraceID(id trace.TraceID) []byte {
	b := make([]byte, 0, xrayid.TraceIDLen+2)
	b = append(b, '"')
	b = xrayid.AppendTraceID(b, id)
	return append(b, '"')
}

func floatJSON(f float64) []byte {
	f, ok := cleanValue(f)
	if !ok {
		return []byte("null")
	}
	return jsonenc.AppendFloat(nil, f)
}
