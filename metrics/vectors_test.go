package metrics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/emfspec"
	"github.com/o11y-go/o11y/internal/reqstate"
)

// The conformance vectors V1–V6 of the reference (§7), through the
// per-event logger, compared with golden files and validated.
func TestVectors(t *testing.T) {
	tests := []struct {
		name string
		run  func(l *EventLogger)
		docs int
	}{
		{"v1_single_metric", func(l *EventLogger) {
			l.SetDimensions([]string{"Operation", "GetItem"})
			l.PutMetric("Latency", 12.5, Milliseconds)
		}, 1},
		{"v2_no_dimensions", func(l *EventLogger) {
			l.SetDimensions()
			l.PutMetric("Requests", 1, Count)
		}, 1},
		{"v3_repeated_samples", func(l *EventLogger) {
			for i := 1; i <= 3; i++ {
				l.PutMetric("Latency", float64(i), Milliseconds)
			}
		}, 1},
		{"v3_101_samples", func(l *EventLogger) {
			l.SetProperty("job", "nightly")
			for i := 1; i <= 101; i++ {
				l.PutMetric("Latency", float64(i), Milliseconds)
			}
		}, 2},
		{"v4_150_metrics", func(l *EventLogger) {
			l.PutDimensions("Operation", "Batch")
			for i := 0; i < 150; i++ {
				l.PutMetric(fmt.Sprintf("M%03d", i), float64(i), Count)
			}
		}, 2},
		{"v5_high_resolution", func(l *EventLogger) {
			require.NoError(t, l.PutMetricResolution("Mem", 1600424, Bytes, HighResolution))
			require.ErrorIs(t, l.PutMetricResolution("Mem", 5, Bytes, StandardResolution), ErrResolution)
			require.ErrorIs(t, l.PutMetricResolution("Other", 5, Bytes, 30), ErrInvalidResolution)
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w lineBuffer
			r, _ := testRecorder(t, &w, nil)
			l := r.Logger(context.Background())
			tc.run(l)
			require.NoError(t, l.Flush())
			lines := w.lines()
			require.Len(t, lines, tc.docs)
			docs := validateLines(t, lines)
			golden(t, tc.name, w.String())
			// Every document carries the same dimensions, properties and
			// timestamp; no metric repeats across documents unless split by values.
			for _, d := range docs {
				assert.Equal(t, T.UnixMilli(), d.Timestamp)
				assert.Equal(t, docs[0].Directives[0].Dimensions, d.Directives[0].Dimensions)
			}
		})
	}
}

func TestV4EachMetricOnce(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	for i := 0; i < 250; i++ {
		l.PutMetric(fmt.Sprintf("M%03d", i), float64(i), Count)
	}
	require.NoError(t, l.Flush())
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 3)
	seen := map[string]int{}
	for _, d := range docs {
		assert.LessOrEqual(t, len(d.Directives[0].Metrics), 100)
		for _, m := range d.Directives[0].Metrics {
			seen[m.Name]++
			assert.Equal(t, "orders", d.Members["Service"])
		}
	}
	assert.Len(t, seen, 250)
	for n, c := range seen {
		assert.Equal(t, 1, c, n)
	}
}

func TestV3ValuesSplitKeepsAll(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	for i := 0; i < 350; i++ {
		l.PutMetric("Latency", float64(i), Milliseconds)
		l.PutMetric("Size", float64(i%7), Bytes)
	}
	require.NoError(t, l.Flush())
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 4)
	var got []float64
	for _, d := range docs {
		switch v := d.Members["Latency"].(type) {
		case []any:
			require.LessOrEqual(t, len(v), 100)
			for _, x := range v {
				got = append(got, x.(float64))
			}
		case float64:
			got = append(got, v)
		}
	}
	require.Len(t, got, 350)
	for i, v := range got {
		assert.Equal(t, float64(i), v)
	}
}

// V6: a histogram of 10×3 and 20×1, and 101+ distinct values split.
func TestV6Histogram(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	enc := newEncoder(r.rep)
	d := document{namespace: "Svc", timestampMs: T.UnixMilli(), dims: []field{{"Service", "orders"}}, sets: [][]string{{"Service"}}}
	d.metrics = []metricData{{name: "Latency", unit: Milliseconds, kind: kindHist, hv: []float64{10, 20}, hc: []float64{3, 1}, min: 10, max: 20, sum: 50}}
	require.NoError(t, enc.encode(&d, func(b []byte) error { _, err := w.Write(b); return err }))
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 1)
	assert.Contains(t, w.String(), `"Latency":{"Values":[10,20],"Counts":[3,1],"Max":20,"Min":10,"Count":4,"Sum":50}`)

	// 250 distinct values: three parts, Count per part, Sum adding up.
	w = lineBuffer{}
	var hv, hc []float64
	sum := 0.0
	for i := 1; i <= 250; i++ {
		hv, hc = append(hv, float64(i)), append(hc, 2)
		sum += 2 * float64(i)
	}
	d.metrics = []metricData{{name: "Latency", unit: Milliseconds, kind: kindHist, hv: hv, hc: hc, min: 0.5, max: 250.5, sum: sum}}
	require.NoError(t, enc.encode(&d, func(b []byte) error { _, err := w.Write(b); return err }))
	docs = validateLines(t, w.lines())
	require.Len(t, docs, 3)
	var totalCount, totalSum float64
	mins, maxs := math.Inf(1), math.Inf(-1)
	for _, doc := range docs {
		h := doc.Members["Latency"].(map[string]any)
		assert.LessOrEqual(t, len(h["Values"].([]any)), 100)
		totalCount += h["Count"].(float64)
		totalSum += h["Sum"].(float64)
		mins, maxs = math.Min(mins, h["Min"].(float64)), math.Max(maxs, h["Max"].(float64))
	}
	assert.Equal(t, 500.0, totalCount)
	assert.InDelta(t, sum, totalSum, 1e-6)
	assert.Equal(t, 0.5, mins)
	assert.Equal(t, 250.5, maxs)
}

// V7/V8: invalid input never reaches the wire; it is sanitised or dropped
// and reported.
func TestInvalidInputSanitised(t *testing.T) {
	var w lineBuffer
	r, errs := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	l.PutDimensions(":bad", "v", "  ", "x", "Table", "héllo\n", "Long", strings.Repeat("a", 1500))
	require.ErrorIs(t, l.PutMetric("nan", math.NaN(), Count), ErrInvalidValue)
	require.ErrorIs(t, l.PutMetric("inf", math.Inf(1), Count), ErrInvalidValue)
	require.ErrorIs(t, l.PutMetric("huge", -math.MaxFloat64, Count), ErrInvalidValue)
	require.ErrorIs(t, l.PutMetric("big", math.Ldexp(1, 361), Count), ErrInvalidValue)
	require.ErrorIs(t, l.PutMetric("unit", 1, Unit("Millis")), ErrInvalidUnit)
	require.ErrorIs(t, l.PutMetric("Table", 1, Count), ErrNameCollision)
	require.NoError(t, l.PutMetric("", 1, Count))
	require.NoError(t, l.PutMetric(strings.Repeat("n", 300), 1, Count))
	l.SetProperty("_aws", "x")
	l.SetProperty("unit", "shadowing a metric")
	require.ErrorIs(t, l.SetTimestamp(T.Add(-15*24*time.Hour)), ErrTimestamp)
	require.ErrorIs(t, l.SetTimestamp(T.Add(3*time.Hour)), ErrTimestamp)
	require.NoError(t, l.SetTimestamp(T.Add(-13*24*time.Hour)))
	require.NoError(t, l.SetTimestamp(T.Add(time.Hour)))
	require.NoError(t, l.Flush())
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 1)
	m := docs[0].Members
	assert.Equal(t, "v", m["_bad"])
	assert.Equal(t, "x", m["unknown"])
	assert.Equal(t, "h_llo_", m["Table"])
	assert.Len(t, m["Long"], 1024)
	assert.Equal(t, 1.0, m["unit"], "metric wins over the property")
	assert.Equal(t, 1.0, m["unnamed"])
	assert.Contains(t, m, strings.Repeat("n", 255))
	assert.NotContains(t, m, "nan")
	assert.Equal(t, T.Add(time.Hour).UnixMilli(), docs[0].Timestamp)
	assert.Positive(t, errs.count())
}

func TestPerEventCorrelation(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, func(o *Options) { o.ServiceType = "AWS::ECS::Container" })
	ctx := reqstate.With(spanCtx("5759e988bd862e3fe1be46a994272793", true), &reqstate.State{RequestID: "req-1"})
	l := r.Logger(ctx)
	l.PutDimensions("Operation", "GetItem")
	l.SetProperty("items", 3)
	l.PutMetric("Items", 3, Count)
	require.NoError(t, l.Flush())
	validateLines(t, w.lines())
	golden(t, "per_event", w.String())
	assert.Contains(t, w.String(), `"xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"`)
	assert.Contains(t, w.String(), `"request_id":"req-1"`)
	// Flush twice: nothing new, nothing written.
	require.NoError(t, l.Flush())
	assert.Len(t, w.lines(), 1)
}

func TestDimensionLimit(t *testing.T) {
	var w lineBuffer
	r, errs := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	var kv []string
	for i := 0; i < 35; i++ {
		kv = append(kv, fmt.Sprintf("K%02d", i), "v")
	}
	l.PutDimensions(kv...)
	l.PutMetric("X", 1, Count)
	require.NoError(t, l.Flush())
	docs := validateLines(t, w.lines())
	require.Len(t, docs[0].Directives[0].Dimensions[0], 30)
	assert.Equal(t, "Service", docs[0].Directives[0].Dimensions[0][0])
	assert.Positive(t, errs.count())

	// Exactly 30 without the default dimension is fine.
	w = lineBuffer{}
	l = r.Logger(context.Background())
	l.SetDimensions(kv[:60])
	l.PutMetric("X", 1, Count)
	require.NoError(t, l.Flush())
	docs = validateLines(t, w.lines())
	require.Len(t, docs[0].Directives[0].Dimensions[0], 30)
}

// Lines never reach 16 KiB: large properties and long values force splits
// by size, oversized headers drop properties, then shorten dimension values.
func TestLineSizeLimit(t *testing.T) {
	var w lineBuffer
	r, errs := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	var kv []string
	for i := 0; i < 29; i++ {
		kv = append(kv, fmt.Sprintf("Dimension%02d", i), strings.Repeat("v", 1024))
	}
	l.PutDimensions(kv...)
	for i := 0; i < 10; i++ {
		l.SetProperty(fmt.Sprintf("p%d", i), strings.Repeat("p", 2000))
	}
	for i := 0; i < 100; i++ {
		l.PutMetric(fmt.Sprintf("%s%03d", strings.Repeat("m", 200), i), math.Pi*1e-300, Count)
		l.PutMetric("Vals", -math.Pi*float64(i)*1e100, Count)
	}
	require.NoError(t, l.Flush())
	lines := w.lines()
	require.Greater(t, len(lines), 1)
	docs := validateLines(t, lines)
	n := 0
	for i, d := range docs {
		assert.Less(t, len(lines[i])+1, emfspec.MaxLine)
		n += len(d.Directives[0].Metrics)
	}
	assert.GreaterOrEqual(t, n, 101)
	assert.Positive(t, errs.count())
}

func TestEventLoggerNil(t *testing.T) {
	var r *Recorder
	l := r.Logger(context.Background())
	require.Nil(t, l)
	l.PutDimensions("a", "b")
	l.SetDimensions()
	l.SetProperty("a", 1)
	l.SetNamespace("x")
	require.NoError(t, l.SetTimestamp(time.Now()))
	require.NoError(t, l.PutMetric("a", 1, Count))
	require.NoError(t, l.Flush())
}

func TestAppendAny(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"}, {"s\n", `"s\n"`}, {true, "true"}, {-3, "-3"}, {uint8(7), "7"},
		{2.5, "2.5"}, {math.NaN(), "null"}, {time.Second, `"1s"`},
		{fmt.Errorf("boom"), `"boom"`}, {[]int{1, 2}, "[1,2]"}, {map[string]int{"a": 1}, `{"a":1}`},
		{func() {}, ""},
	}
	for _, tc := range tests {
		got := string(appendAny(nil, tc.in))
		if tc.want != "" {
			assert.Equal(t, tc.want, got)
		} else {
			assert.True(t, strings.HasPrefix(got, `"`), got)
		}
	}
}

// An EventLogger that is never flushed stays bounded: it flushes itself.
func TestEventLoggerAutoFlush(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	l := r.Logger(context.Background())
	for i := 0; i < maxLoggerSamples+5; i++ {
		l.PutMetric("X", float64(i), Count)
	}
	assert.Len(t, w.lines(), maxLoggerSamples/100)
	require.NoError(t, l.Flush())
	docs := validateLines(t, w.lines())
	n := 0
	for _, d := range docs {
		switch v := d.Members["X"].(type) {
		case []any:
			n += len(v)
		case float64:
			n++
		}
	}
	assert.Equal(t, maxLoggerSamples+5, n)
}

func TestV6Golden(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	enc := newEncoder(r.rep)
	var hv, hc []float64
	sum := 0.0
	for i := 1; i <= 101; i++ {
		hv, hc = append(hv, float64(i)), append(hc, float64(i%3+1))
		sum += float64(i) * float64(i%3+1)
	}
	d := document{namespace: "Svc", timestampMs: T.UnixMilli(), dims: []field{{"Service", "orders"}}, sets: [][]string{{"Service"}},
		metrics: []metricData{
			{name: "Small", unit: Milliseconds, kind: kindHist, hv: []float64{10, 20}, hc: []float64{3, 1}, min: 10, max: 20, sum: 50},
			{name: "Latency", unit: Milliseconds, kind: kindHist, hv: hv, hc: hc, min: 1, max: 101, sum: sum},
		}}
	require.NoError(t, enc.encode(&d, func(b []byte) error { _, err := w.Write(b); return err }))
	require.Len(t, validateLines(t, w.lines()), 2)
	golden(t, "v6_histogram", w.String())
}
