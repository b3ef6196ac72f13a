package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/linewriter"
)

// slowSink is deliberately not safe for concurrent use and copies each Write
// in small chunks, yielding between them, so any Write that is not serialised
// interleaves with another (and trips the race detector).
type slowSink struct{ out []byte }

func (s *slowSink) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 16 {
		s.out = append(s.out, p[i:min(i+16, len(p))]...)
		runtime.Gosched()
	}
	return len(p), nil
}

func TestConcurrentWithEMF(t *testing.T) {
	sink := &slowSink{}
	lw := linewriter.New(sink)
	h := NewHandler(lw, &Options{Service: "svc"})
	const workers, perWorker = 8, 200
	ctx := spanCtx(t)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() { // logger
			defer wg.Done()
			l := slog.New(h).With("worker", w)
			for i := range perWorker {
				l.InfoContext(ctx, "work", "i", i, "payload", strings.Repeat("p", i))
				if i%10 == 0 {
					h.Access(ctx, &AccessEntry{Protocol: "http", Method: "GET", Route: "/x", Status: 200})
				}
			}
		}()
		go func() { // EMF sink sharing the writer
			defer wg.Done()
			for i := range perWorker {
				line := fmt.Sprintf(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},"Service":"svc","Latency":%d}`+"\n", i)
				require.NoError(t, lw.WriteLine([]byte(line)))
			}
		}()
	}
	wg.Wait()

	lines := bytes.Split(bytes.TrimSuffix(sink.out, []byte("\n")), []byte("\n"))
	wantLogs := workers * (perWorker + perWorker/10)
	require.Len(t, lines, wantLogs+workers*perWorker)
	logs, emf := 0, 0
	for _, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "interleaved line: %.200s", line)
		if _, ok := m["_aws"]; ok {
			emf++
		} else {
			assert.Equal(t, wantXRay, m["xray_trace_id"])
			logs++
		}
	}
	assert.Equal(t, wantLogs, logs)
	assert.Equal(t, workers*perWorker, emf)
}

// countingWriter records how many Write calls each line took.
type countingWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return len(p), nil
}

func TestOneWritePerLine(t *testing.T) {
	cw := &countingWriter{}
	h := NewHandler(cw, nil)
	l := slog.New(h)
	l.Info("a", "big", strings.Repeat("x", 30000))
	l.WithGroup("g").With("k", 1).Info("b", "x", 2)
	h.Access(context.Background(), &AccessEntry{Status: 200})
	require.Len(t, cw.writes, 3)
	for _, w := range cw.writes {
		checkLine(t, w)
	}
}
