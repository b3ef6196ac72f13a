// Package linewriter serialises whole lines onto one shared writer, so that log
// records and EMF documents written by different goroutines to the same stdout
// never interleave.
//
// A Writer is synchronous (one Write on the underlying writer per line, under
// a mutex) or batched: lines are copied into a bounded buffer and reach the
// underlying writer in one Write for many lines, when the buffer is full,
// when the flush window that started with the first buffered line ends, on
// Flush and on Close. Batched, the underlying Write runs on a background
// goroutine (the window's timer or a hand-off when the buffer fills), so a
// slow writer does not slow the caller: a caller waits for a busy writer only
// when both buffers are full, at most Options.StallTimeout, and then drops
// its line (counted) until the writer makes progress again.
package linewriter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Options].
const (
	DefaultBufferSize   = 64 << 10
	DefaultStallTimeout = time.Second
)

// ErrDropped is returned by Write for a line that was dropped because both
// buffers were full and the underlying writer made no progress within the
// stall timeout.
var ErrDropped = errors.New("linewriter: line dropped: output buffer full and the writer is stuck")

// ErrStalled is returned by Flush when a write did not complete within the
// stall timeout.
var ErrStalled = errors.New("linewriter: flush: the writer is stuck")

// Report keys: one per kind of problem, for a rate limiter.
const (
	ReportWrite   = "output.write"
	ReportDropped = "output.dropped"
)

// Options configure a batched Writer.
type Options struct {
	// FlushInterval is the longest a line waits in the buffer. Zero or
	// negative: synchronous, one Write per line (see [New]).
	FlushInterval time.Duration
	// BufferSize bounds the bytes buffered (per buffer: one is filled while
	// the other is written). A line longer than this is written directly.
	// Default DefaultBufferSize.
	BufferSize int
	// StallTimeout bounds how long a Write waits for a busy writer when the
	// buffers are full (and how long Flush waits for one write to
	// complete). Default DefaultStallTimeout.
	StallTimeout time.Duration
	// Report receives write errors of the background writes (key
	// ReportWrite) and drops (key ReportDropped); nil: counted only. It
	// must not write to this Writer. The caller rate-limits per key (the
	// SDK passes its reporter).
	Report func(key string, err error)

	// afterFunc replaces time.AfterFunc in tests.
	afterFunc func(d time.Duration, f func()) timer
}

// timer is the part of *time.Timer the window uses.
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// Writer writes whole lines to one underlying writer; see the package
// documentation for the two modes. The zero value is not usable; use New or
// NewBatched.
//
// Writer is safe for concurrent use. Callers own their buffers: Write does
// not retain p.
type Writer struct {
	mu sync.Mutex
	w  io.Writer

	// Batched mode (interval > 0). cur receives lines; spare is the other
	// buffer, nil while a write of it is in flight (writing).
	interval  time.Duration
	size      int
	stall     time.Duration
	report    func(string, error)
	cur       []byte
	curLines  uint64
	spare     []byte
	writing   bool
	armed     bool          // the window's timer is running
	due       bool          // write cur as soon as the writer is free
	stuck     bool          // a caller gave up waiting for the write in flight
	torn      bool          // a failed write ended inside a line
	done      chan struct{} // closed when the write in flight ends (made by waiters)
	tm        timer
	accepted  uint64 // lines taken into the buffers
	settled   uint64 // of those, lines written or lost in a failed write
	afterFunc func(d time.Duration, f func()) timer

	errors  atomic.Uint64
	lines   atomic.Uint64
	dropped atomic.Uint64
	writes  atomic.Uint64
}

// New returns a synchronous Writer over w: each Write is one Write on w,
// under a mutex.
func New(w io.Writer) *Writer { return &Writer{w: w} }

// NewBatched returns a Writer over w that batches lines as o says; with
// o.FlushInterval <= 0 it is synchronous, like New.
func NewBatched(w io.Writer, o Options) *Writer {
	l := &Writer{w: w, report: o.Report}
	if o.FlushInterval <= 0 {
		return l
	}
	l.interval = o.FlushInterval
	l.size = o.BufferSize
	if l.size <= 0 {
		l.size = DefaultBufferSize
	}
	l.stall = o.StallTimeout
	if l.stall <= 0 {
		l.stall = DefaultStallTimeout
	}
	l.afterFunc = o.afterFunc
	if l.afterFunc == nil {
		l.afterFunc = func(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }
	}
	l.cur = make([]byte, 0, l.size)
	l.spare = make([]byte, 0, l.size)
	return l
}

// Interval returns the flush window; 0 means synchronous.
func (l *Writer) Interval() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.interval
}

// Write implements io.Writer. p should be one or more complete lines. Written
// synchronously it is one Write call under the lock; batched, it is copied
// into the buffer whole (never split across two underlying writes), and the
// error is ErrDropped when the line was dropped, else nil: errors of the
// background writes are counted and passed to Options.Report.
func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.interval <= 0 {
		return l.writeSync(p)
	}
	if len(p) > l.size {
		return l.writeLarge(p)
	}
	for len(l.cur)+len(p) > l.size {
		l.due = true
		if !l.writing {
			l.handOff()
			continue
		}
		if !l.waitWrite() {
			l.mu.Unlock()
			l.drop()
			return 0, ErrDropped
		}
	}
	if !l.armed && !l.due {
		l.arm()
	}
	l.cur = append(l.cur, p...)
	l.curLines++
	l.accepted++
	l.mu.Unlock()
	return len(p), nil
}

// writeSync writes p with one call, l.mu held (and released on return;
// reports are made after that, so an error handler may log).
func (l *Writer) writeSync(p []byte) (int, error) {
	// A batch still in flight (the writer was switched to synchronous by
	// Close) or still buffered goes first.
	for l.writing {
		if !l.waitWrite() {
			l.mu.Unlock()
			l.drop()
			return 0, ErrDropped
		}
	}
	var batch []byte
	var bn uint64
	var batchErr error
	if len(l.cur) > 0 {
		batch, bn = l.cur, l.curLines
		l.cur, l.curLines = l.cur[:0], 0
		batchErr = l.writeBatch(batch)
		l.count(bn, batchErr)
		l.settled += bn
	}
	n, err := l.w.Write(p)
	l.writes.Add(1)
	if err != nil {
		l.errors.Add(1)
	} else {
		l.lines.Add(1)
	}
	blen := len(batch)
	l.mu.Unlock()
	l.reportWrite(blen, bn, batchErr)
	return n, err
}

// writeLarge writes a line longer than the buffer directly, after what is
// buffered, on the caller's goroutine. l.mu is held and released on return.
// (The SDK's lines are at most 16 KiB, far below the buffer size.)
func (l *Writer) writeLarge(p []byte) (int, error) {
	for l.writing {
		if !l.waitWrite() {
			l.mu.Unlock()
			l.drop()
			return 0, ErrDropped
		}
	}
	// Take both buffers: no background write starts while this one runs.
	batch, n := l.cur, l.curLines
	l.cur, l.curLines, l.spare = l.spare, 0, nil
	l.writing, l.due = true, false
	l.mu.Unlock()
	var batchErr error
	if len(batch) > 0 {
		batchErr = l.writeBatch(batch)
		l.count(n, batchErr)
	}
	m, err := l.w.Write(p)
	l.writes.Add(1)
	if err != nil {
		l.errors.Add(1)
		l.dropped.Add(1)
	} else {
		l.lines.Add(1)
	}
	size := len(batch)
	l.mu.Lock()
	l.accepted++
	l.settled += n + 1
	l.finishWrite(batch)
	if l.due && len(l.cur) > 0 && l.interval > 0 {
		l.handOff()
	}
	l.mu.Unlock()
	l.reportWrite(size, n, batchErr)
	return m, err
}

// arm starts the flush window; l.mu held.
func (l *Writer) arm() {
	l.armed = true
	if l.tm == nil {
		l.tm = l.afterFunc(l.interval, l.onTimer)
		return
	}
	l.tm.Reset(l.interval)
}

// handOff swaps the buffers and writes the full one on a new goroutine;
// l.mu held, no write in flight.
func (l *Writer) handOff() {
	batch, n := l.take()
	go l.writeLoop(batch, n)
}

// take swaps the buffers and marks a write in flight; l.mu held.
func (l *Writer) take() ([]byte, uint64) {
	batch, n := l.cur, l.curLines
	l.cur, l.curLines, l.spare = l.spare[:0], 0, nil
	l.writing, l.due = true, false
	return batch, n
}

// onTimer ends a flush window: it writes the buffer on the timer's
// goroutine, or leaves it to the write in flight.
func (l *Writer) onTimer() {
	l.mu.Lock()
	l.armed = false
	if len(l.cur) == 0 || l.interval <= 0 {
		l.mu.Unlock()
		return
	}
	if l.writing {
		l.due = true
		l.mu.Unlock()
		return
	}
	batch, n := l.take()
	l.mu.Unlock()
	l.writeLoop(batch, n)
}

// writeLoop writes batch, then whatever became due meanwhile, without l.mu.
// Each batch is accounted (and reported) after the write is released, so a
// report that writes a line does not wait for this goroutine.
func (l *Writer) writeLoop(batch []byte, n uint64) {
	for {
		err := l.writeBatch(batch)
		size := len(batch)
		l.count(n, err)
		l.mu.Lock()
		l.settled += n
		l.finishWrite(batch)
		l.mu.Unlock()
		l.reportWrite(size, n, err)
		l.mu.Lock()
		if l.writing { // another goroutine took over meanwhile
			l.mu.Unlock()
			return
		}
		if !l.due || len(l.cur) == 0 || l.interval <= 0 {
			l.due = l.due && len(l.cur) > 0
			l.mu.Unlock()
			return
		}
		batch, n = l.take()
		l.mu.Unlock()
	}
}

// finishWrite returns batch as the spare buffer and wakes waiters; l.mu held.
func (l *Writer) finishWrite(batch []byte) {
	if batch == nil {
		batch = make([]byte, 0, l.size)
	}
	l.spare = batch[:0]
	l.writing, l.stuck = false, false
	if l.done != nil {
		close(l.done)
		l.done = nil
	}
}

// writeBatch writes batch with one call (after a newline ending a line a
// failed write left torn). Called by the one goroutine owning the write.
func (l *Writer) writeBatch(batch []byte) error {
	if l.torn {
		if _, err := l.w.Write([]byte{'\n'}); err == nil {
			l.torn = false
		}
	}
	n, err := l.w.Write(batch)
	l.writes.Add(1)
	if err == nil && n < len(batch) {
		err = io.ErrShortWrite
	}
	if err != nil && n > 0 && n < len(batch) && batch[n-1] != '\n' {
		l.torn = true
	}
	return err
}

// count counts a finished batch of n lines, before the write is released
// (so Flush returns with the counters up to date).
func (l *Writer) count(n uint64, err error) {
	if err == nil {
		l.lines.Add(n)
		return
	}
	l.errors.Add(1)
	l.dropped.Add(n)
}

// reportWrite reports a failed batch of n lines (size bytes). Called
// without l.mu and after the write is released: the report may end up
// writing to this Writer.
func (l *Writer) reportWrite(size int, n uint64, err error) {
	if err != nil && l.report != nil {
		l.report(ReportWrite, fmt.Errorf("write of %d bytes (%d lines) failed, lines lost: %w", size, n, err))
	}
}

func (l *Writer) drop() {
	l.dropped.Add(1)
	if l.report != nil {
		l.report(ReportDropped, ErrDropped)
	}
}

// waitWrite waits, l.mu held (released while waiting), for the write in
// flight to end, at most the stall timeout; once a caller has given up, the
// others do not wait until that write ends. It reports whether it ended.
func (l *Writer) waitWrite() bool {
	if l.stuck {
		return false
	}
	if l.done == nil {
		l.done = make(chan struct{})
	}
	done := l.done
	l.mu.Unlock()
	t := time.NewTimer(l.stall)
	ok := true
	select {
	case <-done:
	case <-t.C:
		ok = false
	}
	t.Stop()
	l.mu.Lock()
	if !ok && l.writing && l.done == done {
		l.stuck = true
		return false
	}
	return true
}

// Flush writes every line buffered before the call and waits until they
// are written (or lost to a write error), ctx is done, or a write has not
// completed within the stall timeout (ErrStalled). Synchronous: no-op.
func (l *Writer) Flush(ctx context.Context) error {
	l.mu.Lock()
	target := l.accepted
	for l.settled < target {
		if !l.writing {
			if len(l.cur) > 0 {
				l.handOff()
			} else {
				break // lost to a switch to synchronous mode, counted there
			}
		} else {
			l.due = true
		}
		if l.done == nil {
			l.done = make(chan struct{})
		}
		done := l.done
		l.mu.Unlock()
		t := time.NewTimer(l.stall)
		var err error
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
			err = ErrStalled
		}
		t.Stop()
		if err != nil {
			return err
		}
		l.mu.Lock()
	}
	l.mu.Unlock()
	return nil
}

// Close flushes (as Flush) and makes the Writer synchronous from then on,
// so lines written after Close (after the SDK's Shutdown) are not held in a
// buffer the process may never flush. The Writer stays usable.
func (l *Writer) Close(ctx context.Context) error {
	err := l.Flush(ctx)
	l.mu.Lock()
	if l.interval > 0 {
		l.interval = 0
		if l.tm != nil {
			l.tm.Stop()
			l.armed = false
		}
	}
	l.mu.Unlock()
	if err == nil {
		// Lines written while the first Flush ran.
		err = l.Flush(ctx)
	}
	return err
}

// WriteLine writes p, which must be one complete line ending in '\n'. When p
// has no trailing newline one is added (that costs a second append only in
// that case, never a second Write).
func (l *Writer) WriteLine(p []byte) error {
	if len(p) == 0 || p[len(p)-1] != '\n' {
		p = append(p, '\n')
	}
	_, err := l.Write(p)
	return err
}

// Errors reports how many writes to the underlying writer failed.
func (l *Writer) Errors() uint64 { return l.errors.Load() }

// Lines reports how many lines (Write calls) were written successfully.
func (l *Writer) Lines() uint64 { return l.lines.Load() }

// Dropped reports how many lines were not written: dropped because the
// buffers were full and the writer stuck, or part of a write that failed
// (batched mode; a synchronous Write's error goes to its caller).
func (l *Writer) Dropped() uint64 { return l.dropped.Load() }

// Writes reports how many Write calls the underlying writer received.
func (l *Writer) Writes() uint64 { return l.writes.Load() }

// Underlying returns the wrapped writer.
func (l *Writer) Underlying() io.Writer { return l.w }

// Sync flushes the underlying writer when it has a Sync method (os.File). It
// does not flush the buffer; see Flush.
func (l *Writer) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.w.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
