// Package linewriter serialises whole lines onto one shared writer, so that log
// records and EMF documents written by different goroutines to the same stdout
// never interleave.
package linewriter

import (
	"io"
	"sync"
	"sync/atomic"
)

// Writer writes each line with exactly one Write call on the underlying writer
// while holding a mutex. The zero value is not usable; use New.
//
// Writer is safe for concurrent use. Callers own their buffers: WriteLine does
// not retain p.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	errors atomic.Uint64
	lines  atomic.Uint64
}

// New returns a Writer over w.
func New(w io.Writer) *Writer { return &Writer{w: w} }

// Write implements io.Writer. p should be one or more complete lines; it is
// written with a single Write call under the lock.
func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.w.Write(p)
	l.mu.Unlock()
	if err != nil {
		l.errors.Add(1)
	} else {
		l.lines.Add(1)
	}
	return n, err
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

// Errors reports how many writes failed.
func (l *Writer) Errors() uint64 { return l.errors.Load() }

// Lines reports how many writes succeeded.
func (l *Writer) Lines() uint64 { return l.lines.Load() }

// Underlying returns the wrapped writer.
func (l *Writer) Underlying() io.Writer { return l.w }

// Sync flushes the underlying writer when it has a Sync method (os.File).
func (l *Writer) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.w.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
