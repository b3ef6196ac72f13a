package metrics

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/emfvalidate"
)

var update = flag.Bool("update", false, "rewrite golden files")

// T is the fixed test clock of the conformance vectors (1700000000000 ms).
var T = time.UnixMilli(1700000000000).UTC()

// lineBuffer collects written lines; safe for concurrent use.
type lineBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lineBuffer) lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// errorsOf collects reported errors.
type errorsOf struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorsOf) handle(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
func (e *errorsOf) count() int       { e.mu.Lock(); defer e.mu.Unlock(); return len(e.errs) }
func (e *errorsOf) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, err := range e.errs {
		s = append(s, err.Error())
	}
	return strings.Join(s, "\n")
}

func testRecorder(t testing.TB, w *lineBuffer, mod func(*Options)) (*Recorder, *errorsOf) {
	t.Helper()
	errs := &errorsOf{}
	opts := Options{Namespace: "Svc", ServiceName: "orders", FlushInterval: -1, Writer: w,
		Now: func() time.Time { return T }, ErrorHandler: errs.handle}
	if mod != nil {
		mod(&opts)
	}
	r := New(opts)
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, errs
}

// validateLines checks every line against the EMF rules (window measured
// from the test clock) and returns the parsed documents.
func validateLines(t testing.TB, lines []string) []*emfvalidate.Doc {
	t.Helper()
	return validateLinesAt(t, lines, T)
}

func validateLinesAt(t testing.TB, lines []string, now time.Time) []*emfvalidate.Doc {
	t.Helper()
	var docs []*emfvalidate.Doc
	for i, l := range lines {
		d, err := emfvalidate.ParseAt([]byte(l+"\n"), now)
		require.NoError(t, err, "line %d: %s", i, l)
		docs = append(docs, d)
	}
	return docs
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), got)
}

func spanCtx(traceHex string, sampled bool) context.Context {
	tid, _ := trace.TraceIDFromHex(traceHex)
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	flags := trace.TraceFlags(0)
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags})
	return trace.ContextWithSpanContext(context.Background(), sc)
}
