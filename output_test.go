package o11y

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeOutput returns the write end of a pipe (an *os.File, like stdout) and
// a function returning the lines read from it so far.
func pipeOutput(t *testing.T) (*os.File, func() []string) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	var mu sync.Mutex
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = w.Close(); <-done; _ = r.Close() })
	return w, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

func TestLogFlushIntervalDefaults(t *testing.T) {
	file, _ := pipeOutput(t)
	for _, c := range []struct {
		name string
		out  any
		set  time.Duration
		want time.Duration
	}{
		{"file, default", file, 0, defaultLogFlush},
		{"file, set", file, 10 * time.Millisecond, 10 * time.Millisecond},
		{"file, synchronous", file, -1, 0},
		{"buffer, default", &bytes.Buffer{}, 0, 0},
		{"buffer, set", &bytes.Buffer{}, 5 * time.Millisecond, 5 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig(nil, &errorsSeen{})
			switch o := c.out.(type) {
			case *os.File:
				cfg.Output = o
			case *bytes.Buffer:
				cfg.Output = o
			}
			cfg.Logs.FlushInterval = c.set
			s, err := Start(context.Background(), cfg)
			require.NoError(t, err)
			assert.Equal(t, c.want, s.lines.Interval())
			require.NoError(t, s.Shutdown(context.Background()))
			assert.Zero(t, s.lines.Interval(), "synchronous after Shutdown")
		})
	}
}

func TestLogFlushIntervalFromEnv(t *testing.T) {
	for v, want := range map[string]time.Duration{"0": -1, "5ms": 5 * time.Millisecond, "0.05s": 50 * time.Millisecond} {
		c, warns := configFromLookup(func(k string) (string, bool) {
			if k == "O11Y_LOG_FLUSH_INTERVAL" {
				return v, true
			}
			return "", false
		})
		assert.Empty(t, warns, v)
		assert.Equal(t, want, c.Logs.FlushInterval, v)
	}
}

// Lines written through a batched Output reach it on ForceFlush and on
// Shutdown (the final EMF documents included), in order and whole.
func TestBatchedOutputFlushedByForceFlushAndShutdown(t *testing.T) {
	file, lines := pipeOutput(t)
	cfg := baseConfig(nil, &errorsSeen{})
	cfg.Output = file
	cfg.Logs.FlushInterval = maxLogFlush // only the flushes below write
	cfg.Traces.Exporter = "none"
	s, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	for i := range 50 {
		s.Logger().Info("line", "i", i)
	}
	require.NoError(t, s.ForceFlush(context.Background()))
	assert.Eventually(t, func() bool { return len(lines()) >= 50 }, 10*time.Second, time.Millisecond,
		"ForceFlush wrote every line (the reader may lag)")
	s.Metrics().Operation("GET /x").Observe(context.Background(), time.Millisecond, 0)
	s.Logger().Info("last")
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Eventually(t, func() bool { return len(lines()) >= 52 }, 10*time.Second, time.Millisecond)
	got := lines()
	for i, l := range got {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %d whole: %q", i, l)
		if i < 50 {
			assert.EqualValues(t, i, m["i"], "in order")
		}
	}
	assert.Contains(t, got[len(got)-1], `"_aws"`, "the final EMF document is written by Shutdown")
	assert.Equal(t, uint64(0), s.Stats().LinesDropped)
}

// stuckWriter blocks every Write until release is closed.
type stuckWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	return len(p), nil
}

// A stuck Output cannot hold Shutdown past its deadline.
func TestShutdownWithStuckOutputReturnsByDeadline(t *testing.T) {
	w := &stuckWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(w.release)
	cfg := baseConfig(nil, &errorsSeen{})
	cfg.Output = w
	cfg.Logs.FlushInterval = maxLogFlush
	cfg.Traces.Exporter = "none"
	cfg.Metrics.Disable = true
	s, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	s.Logger().Info("stuck")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-w.entered; cancel() }() // cancel once the write is stuck
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Contains(t, err.Error(), "output")
}

// Drops on a stuck Output show in Stats and are reported.
func TestStuckOutputDropsAreCounted(t *testing.T) {
	w := &stuckWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	seen := &errorsSeen{}
	cfg := baseConfig(nil, seen)
	cfg.Output = w
	cfg.Logs.FlushInterval = maxLogFlush
	cfg.Traces.Exporter = "none"
	cfg.Metrics.Disable = true
	s, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	big := string(bytes.Repeat([]byte("x"), 8<<10))
	// 8 lines of 8 KiB fill one 64 KiB buffer; the next hands it to a
	// write that sticks; 8 more fill the other; then lines are dropped.
	for range 8 + 1 {
		s.Logger().Info(big)
	}
	<-w.entered
	for range 8 + 3 {
		s.Logger().Info(big)
	}
	st := s.Stats()
	assert.GreaterOrEqual(t, st.LinesDropped, uint64(3))
	found := false
	for _, e := range seen.all() {
		found = found || bytes.Contains([]byte(e.Error()), []byte("o11y: output: linewriter: line dropped"))
	}
	assert.True(t, found, "reported: %v", seen.all())
	close(w.release)
	require.NoError(t, s.Shutdown(context.Background()))
}

// A window above the maximum set in code is reported under its field and
// capped.
func TestLogFlushIntervalAboveMaximumFromCode(t *testing.T) {
	seen := &errorsSeen{}
	cfg := baseConfig(&bytes.Buffer{}, seen)
	cfg.Logs.FlushInterval = time.Minute
	s, err := Start(context.Background(), cfg)
	require.Error(t, err)
	defer s.Shutdown(context.Background())
	var ce *ConfigError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "Config.Logs.FlushInterval", ce.Name)
	assert.Equal(t, "100ms", ce.Fallback)
	assert.Equal(t, maxLogFlush, s.lines.Interval())
}
