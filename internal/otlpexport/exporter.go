package otlpexport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/otlpenc"
	"github.com/o11y-go/o11y/internal/report"
)

// Exporter is an sdktrace.SpanExporter sending OTLP over gRPC or
// HTTP/protobuf. It encodes spans straight to protobuf bytes with
// internal/otlpenc (no intermediate message structs), with no per-span
// allocations in steady state.
//
// ExportSpans calls are serialised (the batch span processor makes one at
// a time anyway); each is bounded by the configured timeout, retries
// included.
type Exporter struct {
	s  *settings
	tr transport

	mu     sync.Mutex // guards enc and buf, serialises exports
	enc    otlpenc.Encoder
	buf    []byte
	closed bool
}

// transport sends one encoded ExportTraceServiceRequest.
type transport interface {
	// send makes one attempt. It returns the response body (an
	// ExportTraceServiceResponse, possibly empty) or an error, a
	// *retryError when the failure is transient.
	send(ctx context.Context, req []byte) (resp []byte, err error)
	close() error
}

// maxKeptBuf is the largest encode buffer kept between exports; a batch of
// unusually large spans gets a buffer that is released afterwards.
const maxKeptBuf = 4 << 20

// New returns an exporter. It does not connect: the first export does, so
// an unreachable collector never blocks or fails construction.
func New(o Options) (*Exporter, error) {
	s, err := resolve(o)
	if err != nil {
		return nil, err
	}
	e := &Exporter{s: s}
	e.enc.Reporter = report.New(o.Report, report.DefaultInterval)
	if s.protocol == "grpc" {
		e.tr, err = newGRPC(s)
	} else {
		e.tr = newHTTP(s)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Endpoint returns the resolved collector URL (for messages).
func (e *Exporter) Endpoint() string { return e.s.endpoint.String() }

// Protocol returns the protocol in use: "grpc" or "http/protobuf".
func (e *Exporter) Protocol() string { return e.s.protocol }

// Timeout returns the bound on one export, retries included.
func (e *Exporter) Timeout() time.Duration { return e.s.timeout }

// Compressed reports whether requests are gzip-compressed.
func (e *Exporter) Compressed() bool { return e.s.gzip }

// HeaderNames returns the names of the headers sent with every export
// (lower case, sorted); their values are not exposed.
func (e *Exporter) HeaderNames() []string {
	names := make([]string, 0, len(e.s.headers))
	for k := range e.s.headers {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// TLSConfig returns a copy of the TLS configuration in use, or nil for
// plaintext.
func (e *Exporter) TLSConfig() *tls.Config {
	if e.s.tls == nil {
		return nil
	}
	return e.s.tls.Clone()
}

// ErrShutdown is returned by ExportSpans after Shutdown.
var ErrShutdown = errors.New("otlpexport: exporter is shut down")

// PartialSuccess is returned when the collector accepted the request but
// rejected some of its spans.
type PartialSuccess struct {
	Rejected int64
	Message  string
}

func (p *PartialSuccess) Error() string {
	return fmt.Sprintf("otlpexport: collector rejected %d spans: %s", p.Rejected, p.Message)
}

// ExportSpans encodes spans and sends them, retrying transient failures
// with exponential backoff until the export timeout or ctx ends.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrShutdown
	}
	e.buf = e.enc.AppendTraceRequest(e.buf[:0], spans)
	defer func() {
		if cap(e.buf) > maxKeptBuf {
			e.buf = nil
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, e.s.timeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		var resp []byte
		resp, err = e.tr.send(ctx, e.buf)
		if err == nil {
			return partial(resp)
		}
		wait, retry := retryable(err)
		if !retry || attempt >= e.s.maxAttempts || ctx.Err() != nil {
			return err
		}
		if attempt == 1 {
			e.s.report(fmt.Errorf("otlpexport: OTLP export to %s failed, retrying: %w", e.s.endpoint.Redacted(), err))
		}
		if wait <= 0 {
			wait = backoffFn(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err // the retry could not finish in time
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// partial turns a response body into a PartialSuccess error, if any spans
// were rejected.
func partial(resp []byte) error {
	if len(resp) == 0 {
		return nil
	}
	n, msg, err := otlpenc.ParseTraceResponse(resp)
	if err != nil || (n == 0 && msg == "") {
		return nil // the spans were accepted; an odd body changes nothing
	}
	return &PartialSuccess{Rejected: n, Message: msg}
}

// backoffFn is replaced in tests.
var backoffFn = backoff

// backoff is the wait before retry attempt+1: 0.5 s doubling to at most
// 8 s, with ±20 % jitter so many instances do not retry in step.
func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt-1, 4)
	j := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * j)
}

// retryError marks a transport failure the specification calls transient.
type retryError struct {
	err   error
	after time.Duration // server-requested delay, 0 if none
}

func (r *retryError) Error() string { return r.err.Error() }
func (r *retryError) Unwrap() error { return r.err }

func retryable(err error) (time.Duration, bool) {
	var r *retryError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// ForceFlush is a no-op: the exporter holds no spans between calls.
func (e *Exporter) ForceFlush(context.Context) error { return nil }

// Shutdown closes the connection. Exports after it fail with ErrShutdown.
// It waits for an export in progress (bounded by that export's timeout)
// unless ctx ends first.
func (e *Exporter) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			done <- nil
			return
		}
		e.closed = true
		done <- e.tr.close()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
