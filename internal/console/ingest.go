package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"sync"
	"time"
)

// IngestDatagram stores one X-Ray daemon datagram (header line and one
// segment document). Malformed datagrams are counted and dropped.
func (c *Console) IngestDatagram(b []byte) error {
	body, err := parseDatagram(b)
	if err != nil {
		c.stats.BadSegments.Add(1)
		return err
	}
	return c.IngestSegment(body)
}

// IngestSegment stores one segment document (no daemon header).
func (c *Console) IngestSegment(b []byte) error {
	id, d, err := parseDoc(b)
	if err != nil {
		c.stats.BadSegments.Add(1)
		return err
	}
	c.store.addDoc(id, d)
	return nil
}

// IngestEMF stores one EMF document. Malformed documents are counted and
// dropped.
func (c *Console) IngestEMF(line []byte) error {
	pts, ex, err := parseEMF(line)
	if err != nil {
		c.stats.BadEMF.Add(1)
		return err
	}
	c.stats.EMFDocs.Add(1)
	c.store.metrics.add(pts, ex)
	return nil
}

// IngestLine handles one line of a service's stdout: an EMF document, a
// JSON log line (kept with its trace when it carries xray_trace_id), or
// anything else (counted only).
func (c *Console) IngestLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if line[0] != '{' {
		c.stats.OtherLines.Add(1)
		return
	}
	if len(line) > maxLogLineBytes {
		c.stats.BadLines.Add(1)
		return
	}
	if bytes.Contains(line, []byte(`"_aws"`)) {
		if c.IngestEMF(line) == nil {
			return
		}
		// not EMF after all: fall through and keep it as a log line
	}
	var l struct {
		TraceID string          `json:"xray_trace_id"`
		Time    json.RawMessage `json:"time"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		c.stats.BadLines.Add(1)
		return
	}
	c.stats.LogLines.Add(1)
	if l.TraceID == "" || len(l.TraceID) > maxTraceIDBytes {
		return
	}
	c.store.addLog(l.TraceID, logTime(l.Time), line)
}

// logTime reads a log line's time: RFC 3339 text or epoch (s or ms).
func logTime(raw json.RawMessage) float64 {
	if len(raw) == 0 {
		return 0
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return float64(t.UnixNano()) / 1e9
		}
		return 0
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil && !math.IsNaN(f) && f > 0 {
		if f > 1e11 { // milliseconds
			return f / 1000
		}
		return f
	}
	return 0
}

// ReadLines reads newline-delimited lines from r until EOF, passing each
// through to pass (when not nil) and ingesting it. Lines longer than
// 1 MiB are passed through in pieces and not ingested.
func (c *Console) ReadLines(r io.Reader, pass io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long bool
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if pass != nil {
				_, _ = pass.Write(line)
			}
			if err == bufio.ErrBufferFull {
				long = true
				c.stats.BadLines.Add(1)
				continue
			}
			if !long {
				c.IngestLine(line)
			}
			long = false
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// LineWriter returns a writer that ingests every complete line written to
// it (logs and EMF documents, as IngestLine) and never fails: hand it the
// service's stdout, e.g. through io.MultiWriter. A partial line waits for
// its end (up to 1 MiB).
func (c *Console) LineWriter() io.Writer { return &lineWriter{c: c} }

type lineWriter struct {
	c   *Console
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(w.buf)+len(p) > 1<<20 {
				w.c.stats.BadLines.Add(1)
				w.buf = w.buf[:0]
				return n, nil
			}
			w.buf = append(w.buf, p...)
			return n, nil
		}
		if len(w.buf) > 0 {
			w.buf = append(w.buf, p[:i]...)
			w.c.IngestLine(w.buf)
			w.buf = w.buf[:0]
		} else {
			w.c.IngestLine(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}
