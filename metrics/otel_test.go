package metrics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/o11y-go/o11y/internal/emfspec"
)

func otelSetup(t *testing.T) (*lineBuffer, *Exporter, *sdkmetric.ManualReader, metric.Meter) {
	t.Helper()
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	exp := NewExporter(r)
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(exp.Temporality))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &w, exp, reader, mp.Meter("github.com/acme/db")
}

func collectExport(t *testing.T, exp *Exporter, reader *sdkmetric.ManualReader) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.NoError(t, exp.Export(context.Background(), &rm))
}

func TestOTelExporter(t *testing.T) {
	w, exp, reader, meter := otelSetup(t)
	ctx := context.Background()
	ctr, _ := meter.Int64Counter("db.queries", metric.WithUnit("{query}"))
	udc, _ := meter.Int64UpDownCounter("db.pool.in_use", metric.WithUnit("{connection}"))
	hist, _ := meter.Float64Histogram("db.duration", metric.WithUnit("ms"))
	gauge, _ := meter.Float64Gauge("db.cache.ratio", metric.WithUnit("%"))
	attrs := metric.WithAttributes(attribute.String("table", "orders"))
	ctr.Add(ctx, 3, attrs)
	udc.Add(ctx, 5, attrs)
	for _, v := range []float64{1, 2, 3, 40, 800} {
		hist.Record(ctx, v, attrs)
	}
	gauge.Record(ctx, 97.5, attrs)
	collectExport(t, exp, reader)

	docs := validateLines(t, w.lines())
	require.Len(t, docs, 1, w.String())
	d := docs[0]
	assert.Equal(t, [][]string{{"Service", "table"}}, d.Directives[0].Dimensions)
	assert.Equal(t, "github.com/acme/db", d.Members[emfspec.PropScope])
	assert.Equal(t, 3.0, d.Members["db.queries"])
	assert.Equal(t, 5.0, d.Members["db.pool.in_use"])
	assert.Equal(t, 97.5, d.Members["db.cache.ratio"])
	h := d.Members["db.duration"].(map[string]any)
	assert.Equal(t, 5.0, h["Count"])
	assert.Equal(t, 846.0, h["Sum"])
	assert.Equal(t, 1.0, h["Min"])
	assert.Equal(t, 800.0, h["Max"])
	units := map[string]string{}
	for _, m := range d.Directives[0].Metrics {
		units[m.Name] = m.Unit
	}
	assert.Equal(t, map[string]string{"db.queries": "Count", "db.pool.in_use": "Count", "db.duration": "Milliseconds", "db.cache.ratio": "Percent"}, units)

	// Second interval: the counter is a delta, the up-down counter a level.
	w.mu.Lock()
	w.buf.Reset()
	w.mu.Unlock()
	ctr.Add(ctx, 2, attrs)
	udc.Add(ctx, -1, attrs)
	collectExport(t, exp, reader)
	docs = validateLines(t, w.lines())
	require.NotEmpty(t, docs)
	assert.Equal(t, 2.0, docs[0].Members["db.queries"])
	assert.Equal(t, 4.0, docs[0].Members["db.pool.in_use"])
}

// Cumulative input (a reader with the default selector) is diffed.
func TestOTelExporterCumulativeInput(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	exp := NewExporter(r)
	reader := sdkmetric.NewManualReader() // cumulative
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("s")
	ctr, _ := m.Int64Counter("c")
	hist, _ := m.Int64Histogram("h", metric.WithUnit("By"))
	ctx := context.Background()
	ctr.Add(ctx, 10)
	hist.Record(ctx, 100)
	collectExport(t, exp, reader)
	ctr.Add(ctx, 5)
	hist.Record(ctx, 3000)
	hist.Record(ctx, 3000)
	w = lineBuffer{}
	collectExport(t, exp, reader)
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 1)
	assert.Equal(t, 5.0, docs[0].Members["c"])
	h := docs[0].Members["h"].(map[string]any)
	assert.Equal(t, 2.0, h["Count"])
	assert.Equal(t, 6000.0, h["Sum"])
}

func TestOTelExporterCardinalityAndLargeHistograms(t *testing.T) {
	w, exp, reader, meter := otelSetup(t)
	exp.maxSeries = 5
	ctx := context.Background()
	ctr, _ := meter.Int64Counter("hits")
	for i := 0; i < 20; i++ {
		ctr.Add(ctx, 1, metric.WithAttributes(attribute.String("user", fmt.Sprint(i))))
	}
	bounds := make([]float64, 150)
	for i := range bounds {
		bounds[i] = float64(i + 1)
	}
	hist, _ := meter.Float64Histogram("big", metric.WithExplicitBucketBoundaries(bounds...))
	for i := 0; i < 160; i++ {
		hist.Record(ctx, float64(i)+0.5)
	}
	collectExport(t, exp, reader)
	docs := validateLines(t, w.lines())
	users := map[string]float64{}
	var bigCount float64
	for _, d := range docs {
		if u, ok := d.Members["user"].(string); ok {
			switch v := d.Members["hits"].(type) {
			case float64:
				users[u] += v
			case []any: // folded series keep every sample
				for _, x := range v {
					users[u] += x.(float64)
				}
			}
		}
		if h, ok := d.Members["big"].(map[string]any); ok {
			bigCount += h["Count"].(float64)
		}
	}
	assert.Len(t, users, 6, "5 series + other")
	assert.Equal(t, 15.0, users["other"])
	assert.Equal(t, 160.0, bigCount)
}

func TestOTelExporterExponentialHistogram(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	exp := NewExporter(r)
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(exp.Temporality),
		sdkmetric.WithAggregationSelector(func(sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			return sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}
		}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	hist, _ := mp.Meter("s").Float64Histogram("lat", metric.WithUnit("s"))
	for _, v := range []float64{0, 0.001, 0.01, 0.1, 1, 1, 2} {
		hist.Record(context.Background(), v)
	}
	collectExport(t, exp, reader)
	docs := validateLines(t, w.lines())
	require.Len(t, docs, 1)
	h := docs[0].Members["lat"].(map[string]any)
	assert.Equal(t, 7.0, h["Count"])
	assert.InDelta(t, 4.111, h["Sum"], 1e-9)
	assert.Equal(t, 0.0, h["Min"])
	assert.Equal(t, 2.0, h["Max"])
}

func TestOTelExporterShutdownAndNil(t *testing.T) {
	var e *Exporter
	require.NoError(t, e.Export(context.Background(), &metricdata.ResourceMetrics{}))
	ex := NewExporter(nil)
	require.NoError(t, ex.Export(context.Background(), &metricdata.ResourceMetrics{}))
	_, exp, _, _ := otelSetup(t)
	require.NoError(t, exp.Shutdown(context.Background()))
	require.Error(t, exp.Export(context.Background(), &metricdata.ResourceMetrics{}))
}

// A PeriodicReader exports on its own schedule and on Shutdown.
func TestOTelExporterPeriodicReader(t *testing.T) {
	var w lineBuffer
	r := New(Options{Namespace: "Svc", ServiceName: "orders", FlushInterval: -1, Writer: &w})
	exp := NewExporter(r)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(50*time.Millisecond))))
	ctr, _ := mp.Meter("s").Int64Counter("jobs", metric.WithUnit("{job}"))
	ctr.Add(context.Background(), 2)
	require.Eventually(t, func() bool { return len(w.lines()) > 0 }, 30*time.Second, 10*time.Millisecond)
	ctr.Add(context.Background(), 5)
	require.NoError(t, mp.Shutdown(context.Background()))
	total := 0.0
	for _, d := range validateLinesAt(t, w.lines(), time.Now()) {
		if v, ok := d.Members["jobs"].(float64); ok {
			total += v
		}
	}
	assert.Equal(t, 7.0, total, "deltas add up to what was counted")
	require.NoError(t, r.Shutdown(context.Background()))
}
