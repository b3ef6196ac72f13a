// Package o11ytest records what the SDK emits so tests can assert on their own
// spans, log lines and EMF metric documents, in the spirit of zaptest/observer.
//
//	sdk, rec := o11ytest.New(t)
//	handler := httpmw.New(sdk)(mux)
//	... drive requests ...
//	rec.FlushMetrics()
//	spans, logs, emf := rec.Spans(), rec.Logs(), rec.EMF()
//
// The SDK it returns samples every request, exports spans to memory (no
// daemon, no collector), writes logs and EMF to an in-memory buffer, and is not
// installed as the global default, so tests can run in parallel.
package o11ytest

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/o11y-go/o11y"
)

// Recorder holds everything an SDK created by [New] emitted.
type Recorder struct {
	tb    testing.TB
	sdk   *o11y.SDK
	spans *tracetest.InMemoryExporter
	out   *Buffer
}

// New starts an SDK for a test and shuts it down in tb.Cleanup. Options edit
// the Config before Start (the defaults: service "test", always-on sampling,
// span export to memory only, output to the recorder's buffer, no resource
// detection, not global).
func New(tb testing.TB, opts ...func(*o11y.Config)) (*o11y.SDK, *Recorder) {
	tb.Helper()
	r := &Recorder{tb: tb, spans: tracetest.NewInMemoryExporter(), out: &Buffer{}}
	cfg := o11y.Config{
		ServiceName:              "test",
		Output:                   r.out,
		DisableResourceDetection: true,
		DisableGlobals:           true,
		Traces: o11y.TracesConfig{
			Exporter:       o11y.ExporterNone,
			Sampler:        o11y.SamplerAlwaysOn,
			SpanProcessors: []sdktrace.SpanProcessor{sdktrace.NewSimpleSpanProcessor(r.spans)},
		},
		Metrics: o11y.MetricsConfig{FlushInterval: time.Hour},
	}
	for _, o := range opts {
		o(&cfg)
	}
	sdk, err := o11y.Start(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("o11ytest: start: %v", err)
	}
	r.sdk = sdk
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.Shutdown(ctx)
	})
	return sdk, r
}

// SDK returns the recorder's SDK.
func (r *Recorder) SDK() *o11y.SDK { return r.sdk }

// Spans returns the ended spans so far.
func (r *Recorder) Spans() tracetest.SpanStubs { return r.spans.GetSpans() }

// ResetSpans forgets the spans recorded so far.
func (r *Recorder) ResetSpans() { r.spans.Reset() }

// FlushMetrics writes the pending metric aggregates to the buffer.
func (r *Recorder) FlushMetrics() {
	r.tb.Helper()
	if err := r.sdk.Metrics().Flush(context.Background()); err != nil {
		r.tb.Fatalf("o11ytest: flush metrics: %v", err)
	}
}

// Out returns the buffer logs and EMF are written to.
func (r *Recorder) Out() *Buffer { return r.out }

// Lines returns every line written so far (logs and EMF), in order.
func (r *Recorder) Lines() [][]byte { return r.out.Lines() }

// Logs returns the log lines (every JSON line without an "_aws" member),
// decoded. A line that is not JSON fails the test.
func (r *Recorder) Logs() []map[string]any { return r.decoded(false) }

// EMF returns the EMF documents (JSON lines with an "_aws" member), decoded.
func (r *Recorder) EMF() []map[string]any { return r.decoded(true) }

func (r *Recorder) decoded(emf bool) []map[string]any {
	r.tb.Helper()
	var out []map[string]any
	for _, l := range r.out.Lines() {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			r.tb.Fatalf("o11ytest: output line is not one JSON object: %v: %q", err, l)
		}
		if _, isEMF := m["_aws"]; isEMF == emf {
			out = append(out, m)
		}
	}
	return out
}

// Buffer is a concurrency-safe line buffer that remembers Write boundaries: it
// fails the invariant "one Write per line" loudly by recording what it got.
type Buffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

// Lines returns the complete lines written so far.
func (b *Buffer) Lines() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [][]byte
	for _, l := range bytes.Split(b.buf.Bytes(), []byte{'\n'}) {
		if len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// String returns everything written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Writes returns how many Write calls were made.
func (b *Buffer) Writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes
}
