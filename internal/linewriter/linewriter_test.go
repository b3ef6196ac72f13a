package linewriter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunky writes its input in small pieces, as an unsynchronised pipe could:
// without the line writer's lock, concurrent lines would interleave.
type chunky struct{ buf bytes.Buffer }

func (c *chunky) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 3 {
		c.buf.Write(p[i:min(i+3, len(p))])
	}
	return len(p), nil
}

func TestConcurrentLinesNeverInterleave(t *testing.T) {
	sink := &chunky{}
	w := New(sink)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				require.NoError(t, w.WriteLine([]byte(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))))
			}
		}()
	}
	wg.Wait()
	lines := bytes.Split(bytes.TrimSpace(sink.buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 1600)
	for _, l := range lines {
		assert.True(t, json.Valid(l), "%q", l)
	}
	assert.Equal(t, uint64(1600), w.Lines())
}

type failing struct{}

func (failing) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestErrorsAreCounted(t *testing.T) {
	w := New(failing{})
	assert.Error(t, w.WriteLine([]byte("x\n")))
	assert.Equal(t, uint64(1), w.Errors())
	assert.NoError(t, w.Sync())
}

// fakeTimer is the flush window's timer under the test's control: fire
// runs the callback on the test goroutine, so no test waits for a clock.
type fakeTimer struct {
	mu    sync.Mutex
	f     func()
	armed bool
	arms  int
}

func (t *fakeTimer) Reset(time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.armed
	t.armed = true
	t.arms++
	return was
}

func (t *fakeTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.armed
	t.armed = false
	return was
}

func (t *fakeTimer) fire() bool {
	t.mu.Lock()
	if !t.armed {
		t.mu.Unlock()
		return false
	}
	t.armed = false
	t.mu.Unlock()
	t.f()
	return true
}

func (t *fakeTimer) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.arms
}

// batched returns a batched Writer over w with a fake window timer.
func batched(w io.Writer, o Options) (*Writer, *fakeTimer) {
	ft := &fakeTimer{}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Hour // only the fake timer ends a window
	}
	o.afterFunc = func(_ time.Duration, f func()) timer {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		ft.f, ft.armed = f, true
		ft.arms++
		return ft
	}
	return NewBatched(w, o), ft
}

// recorder remembers each Write it got. It is not safe for concurrent use:
// under -race, two writes at once would be reported.
type recorder struct {
	writes [][]byte
	all    bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	r.all.Write(p)
	return len(p), nil
}

// lockedRecorder is a recorder the test may read while the writer runs.
type lockedRecorder struct {
	mu sync.Mutex
	recorder
}

func (r *lockedRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recorder.Write(p)
}

func (r *lockedRecorder) snapshot() (writes int, all string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes), r.all.String()
}

func TestBatchedWindowOneWriteForManyLines(t *testing.T) {
	rec := &lockedRecorder{}
	w, ft := batched(rec, Options{})
	for i := range 5 {
		require.NoError(t, w.WriteLine([]byte(fmt.Sprintf(`{"i":%d}`, i))))
	}
	n, _ := rec.snapshot()
	assert.Zero(t, n, "nothing reaches the writer before the window ends")
	assert.Equal(t, 1, ft.count(), "one timer for the window, not one per line")

	require.True(t, ft.fire())
	n, all := rec.snapshot()
	assert.Equal(t, 1, n, "one write for the window")
	assert.Equal(t, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n", all)
	assert.Equal(t, uint64(5), w.Lines())
	assert.Equal(t, uint64(1), w.Writes())

	// The next line starts the next window.
	require.NoError(t, w.WriteLine([]byte(`{"i":5}`)))
	assert.Equal(t, 2, ft.count())
	require.True(t, ft.fire())
	n, _ = rec.snapshot()
	assert.Equal(t, 2, n)
	assert.False(t, ft.fire(), "no window runs while the buffer is empty")
}

func TestBatchedFullBufferIsWrittenWithoutWaitingForTheWindow(t *testing.T) {
	rec := &lockedRecorder{}
	w, _ := batched(rec, Options{BufferSize: 64})
	line := []byte("0123456789abcde\n") // 16 bytes: 4 fill the buffer
	for range 9 {
		_, err := w.Write(line)
		require.NoError(t, err)
	}
	// The fifth and ninth lines found the buffer full and handed it off;
	// Flush waits for those writes and writes the ninth line.
	require.NoError(t, w.Flush(context.Background()))
	n, all := rec.snapshot()
	assert.Equal(t, 3, n)
	assert.Equal(t, strings.Repeat(string(line), 9), all)
	assert.Equal(t, uint64(9), w.Lines())
}

func TestBatchedLargeLineIsWrittenDirectlyInOrder(t *testing.T) {
	rec := &recorder{}
	w, _ := batched(rec, Options{BufferSize: 32})
	require.NoError(t, w.WriteLine([]byte("small")))
	big := strings.Repeat("x", 100) + "\n"
	_, err := w.Write([]byte(big))
	require.NoError(t, err)
	require.NoError(t, w.Flush(context.Background()))
	require.Len(t, rec.writes, 2, "the buffered line, then the large one")
	assert.Equal(t, "small\n", string(rec.writes[0]))
	assert.Equal(t, big, string(rec.writes[1]))
	assert.Equal(t, uint64(2), w.Lines())
}

func TestBatchedConcurrentLinesNeverInterleaveOrSplit(t *testing.T) {
	// chunky is not safe for concurrent use: the race detector checks that
	// the batched writer never writes twice at once.
	sink := &chunky{}
	w := NewBatched(sink, Options{FlushInterval: time.Millisecond, BufferSize: 512})
	var wg sync.WaitGroup
	const goroutines, each = 8, 300
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				require.NoError(t, w.WriteLine([]byte(fmt.Sprintf(`{"g":%d,"i":%d,"pad":"%s"}`, g, i, strings.Repeat("p", i%50)))))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, w.Close(context.Background()))
	lines := bytes.Split(bytes.TrimSpace(sink.buf.Bytes()), []byte("\n"))
	require.Len(t, lines, goroutines*each)
	next := make([]int, goroutines)
	for _, l := range lines {
		var v struct{ G, I int }
		require.NoError(t, json.Unmarshal(l, &v), "%q", l)
		assert.Equal(t, next[v.G], v.I, "each goroutine's lines stay in order")
		next[v.G] = v.I + 1
	}
	assert.Equal(t, uint64(goroutines*each), w.Lines())
	assert.Less(t, w.Writes(), uint64(goroutines*each), "batched")
	assert.Zero(t, w.Dropped())
}

// blocking blocks every Write until release is closed; entered receives
// one value per Write that started.
type blocking struct {
	entered chan struct{}
	release chan struct{}
	lockedRecorder
}

func newBlocking() *blocking {
	return &blocking{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocking) Write(p []byte) (int, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.lockedRecorder.Write(p)
}

func TestBatchedStuckWriterDropsAndCounts(t *testing.T) {
	bw := newBlocking()
	var reports []error
	var mu sync.Mutex
	w, _ := batched(bw, Options{BufferSize: 40, StallTimeout: time.Millisecond, Report: func(_ string, err error) {
		mu.Lock()
		reports = append(reports, err)
		mu.Unlock()
	}})
	line := []byte("0123456789\n") // 11 bytes: 3 fit
	for range 3 {
		_, err := w.Write(line)
		require.NoError(t, err)
	}
	// The fourth line hands the full buffer to a write that blocks.
	_, err := w.Write(line)
	require.NoError(t, err)
	<-bw.entered
	for range 2 {
		_, err := w.Write(line)
		require.NoError(t, err)
	}
	// Both buffers are full and the writer is stuck: these are dropped,
	// after one bounded wait (the stall timeout) for the first of them.
	for range 5 {
		_, err := w.Write(line)
		assert.ErrorIs(t, err, ErrDropped)
	}
	assert.Equal(t, uint64(5), w.Dropped())
	mu.Lock()
	assert.NotEmpty(t, reports)
	assert.ErrorIs(t, reports[0], ErrDropped)
	mu.Unlock()

	// Flush gives up on a stuck writer after the stall timeout too.
	assert.ErrorIs(t, w.Flush(context.Background()), ErrStalled)

	close(bw.release)
	require.NoError(t, w.Flush(context.Background()))
	_, all := bw.snapshot()
	assert.Equal(t, strings.Repeat(string(line), 6), all, "every accepted line, in order")
	assert.Equal(t, uint64(6), w.Lines())
	// The writer works again: no more drops.
	_, err = w.Write(line)
	assert.NoError(t, err)
}

func TestBatchedFlushHonoursTheDeadline(t *testing.T) {
	bw := newBlocking()
	w, ft := batched(bw, Options{StallTimeout: time.Hour})
	require.NoError(t, w.WriteLine([]byte("a")))
	go ft.fire() // the window's write blocks
	<-bw.entered
	require.NoError(t, w.WriteLine([]byte("b")))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Flush is waiting once it has marked the buffer due; cancel then.
		for {
			w.mu.Lock()
			due := w.due
			w.mu.Unlock()
			if due {
				cancel()
				return
			}
			runtime.Gosched()
		}
	}()
	assert.ErrorIs(t, w.Flush(ctx), context.Canceled)
	close(bw.release)
	require.NoError(t, w.Flush(context.Background()))
	_, all := bw.snapshot()
	assert.Equal(t, "a\nb\n", all)
}

func TestBatchedWriteErrorsAreCountedAndReported(t *testing.T) {
	var reports []error
	w, ft := batched(failing{}, Options{Report: func(_ string, err error) { reports = append(reports, err) }})
	for range 3 {
		require.NoError(t, w.WriteLine([]byte("x")), "the error comes later, from the batch")
	}
	ft.fire()
	assert.Equal(t, uint64(1), w.Errors())
	assert.Equal(t, uint64(3), w.Dropped(), "the lines of the failed write are lost and counted")
	assert.Zero(t, w.Lines())
	require.Len(t, reports, 1)
	assert.ErrorContains(t, reports[0], "disk full")
	assert.ErrorContains(t, reports[0], "3 lines")
	assert.NoError(t, w.Flush(context.Background()), "nothing left to write")
}

func TestBatchedCloseFlushesAndTurnsSynchronous(t *testing.T) {
	rec := &recorder{}
	w, ft := batched(rec, Options{})
	require.NoError(t, w.WriteLine([]byte("before")))
	require.NoError(t, w.Close(context.Background()))
	require.Len(t, rec.writes, 1)
	assert.Zero(t, w.Interval())
	require.NoError(t, w.WriteLine([]byte("after")))
	require.Len(t, rec.writes, 2, "written at once after Close")
	assert.False(t, ft.fire(), "the window timer is stopped")
}

// tornWriter fails its first write half way through.
type tornWriter struct {
	recorder
	failed bool
}

func (t *tornWriter) Write(p []byte) (int, error) {
	if !t.failed {
		t.failed = true
		t.recorder.Write(p[:len(p)/2])
		return len(p) / 2, errors.New("EIO")
	}
	return t.recorder.Write(p)
}

func TestBatchedTornLineIsEndedBeforeTheNextBatch(t *testing.T) {
	tw := &tornWriter{}
	w, ft := batched(tw, Options{})
	require.NoError(t, w.WriteLine([]byte(`{"a":"0123456789"}`)))
	ft.fire()
	require.NoError(t, w.WriteLine([]byte(`{"b":1}`)))
	ft.fire()
	lines := strings.Split(strings.TrimSuffix(tw.all.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.JSONEq(t, `{"b":1}`, lines[1], "the next line starts on a line of its own")
	assert.Equal(t, uint64(1), w.Dropped())
}

func TestSynchronousWriterWritesEachLine(t *testing.T) {
	rec := &recorder{}
	w := NewBatched(rec, Options{}) // FlushInterval 0: synchronous
	require.NoError(t, w.WriteLine([]byte("a")))
	require.NoError(t, w.WriteLine([]byte("b")))
	assert.Len(t, rec.writes, 2)
	assert.NoError(t, w.Flush(context.Background()))
	assert.Zero(t, w.Interval())
}

// An error handler that logs through the same writer (a user's
// Config.ErrorHandler using the SDK's logger) must not deadlock it.
func TestBatchedReportMayWriteToTheWriter(t *testing.T) {
	var w *Writer
	var ft *fakeTimer
	var reported atomic.Int64
	w, ft = batched(failing{}, Options{Report: func(_ string, err error) {
		reported.Add(1)
		_, _ = w.Write([]byte("report\n"))
	}})
	require.NoError(t, w.WriteLine([]byte("x")))
	ft.fire() // runs the report on this goroutine: it returned, no deadlock
	assert.Equal(t, int64(1), reported.Load())
	require.NoError(t, w.Close(context.Background()), "the report's line is flushed, not waited on forever")
	assert.GreaterOrEqual(t, w.Errors(), uint64(2), "the report's line failed too, and was counted")
}
