package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/o11y-go/o11y/internal/emfspec"
)

// DefaultMaxSeries bounds the distinct attribute sets an [Exporter] turns
// into dimension values.
const DefaultMaxSeries = 1000

// Exporter is an OpenTelemetry [sdkmetric.Exporter] that writes metrics as
// EMF through a Recorder's encoder and sink, so metrics of OTel
// instrumentation libraries reach CloudWatch without a collector.
//
// # Mapping
//
//   - Temporality is Delta for counters and histograms (a datapoint is what
//     happened in the collection interval, which is what CloudWatch sums)
//     and Cumulative for up-down counters (their value is a level, such as
//     a queue length, and is published as is). Cumulative monotonic sums
//     and histograms that arrive anyway (another reader's selector) are
//     turned into deltas against the previous point of the same series; the
//     first point is published whole (it counts from the series' start); a
//     decrease (restart) publishes the new value.
//   - Counters and sums: one value per datapoint. Gauges: the value.
//   - Histograms: Values/Counts with each explicit bucket's midpoint
//     (the outer buckets reach to the recorded Min and Max), exact Min,
//     Max, Count and Sum; exponential histograms likewise with their bucket
//     midpoints. Empty buckets are omitted; more than 100 buckets are
//     split into several documents.
//   - Attributes become dimensions: one set [Service, <every attribute
//     key>] (at most 29 keys, sorted; further attributes become
//     properties). Past MaxSeries distinct attribute sets, attribute values
//     are folded into "other" (reported once).
//   - The scope name is the property otel_scope; datapoints sharing scope,
//     attributes in one export share one document (stamped with the latest
//     datapoint time).
//   - Units: "s", "ms", "us", "ns" (converted to µs), "By", "KiBy", "MiBy",
//     "GiBy", "By/s", "%", "1" and "{...}" annotations map to the
//     CloudWatch units; anything else is None.
//
// Exporter is safe for concurrent use.
type Exporter struct {
	r         *Recorder
	maxSeries int

	mu     sync.Mutex
	enc    *encoder
	prev   map[seriesKey]prevPoint
	series map[attribute.Distinct]struct{}
	folded bool
	closed bool
}

type seriesKey struct {
	scope, name string
	attrs       attribute.Distinct
}

type prevPoint struct {
	value  float64   // sums
	count  uint64    // histograms
	sum    float64   // histograms
	counts []uint64  // histogram buckets
	bounds []float64 // histogram bounds (diffed only when unchanged)
}

// NewExporter returns an Exporter writing through r. Register it with a
// reader: sdkmetric.NewPeriodicReader(metrics.NewExporter(r)).
func NewExporter(r *Recorder) *Exporter {
	e := &Exporter{r: r, maxSeries: DefaultMaxSeries, prev: map[seriesKey]prevPoint{}, series: map[attribute.Distinct]struct{}{}}
	if r != nil {
		e.enc = newEncoder(r.rep)
	}
	return e
}

// Temporality returns Delta for every kind except up-down counters.
func (e *Exporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	switch k {
	case sdkmetric.InstrumentKindUpDownCounter, sdkmetric.InstrumentKindObservableUpDownCounter:
		return metricdata.CumulativeTemporality
	}
	return metricdata.DeltaTemporality
}

// Aggregation returns the SDK's default aggregation.
func (e *Exporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

// ForceFlush flushes the recorder's sink.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e == nil || e.r == nil {
		return nil
	}
	return e.r.sink.flush(ctx)
}

// Shutdown stops the exporter; it does not shut the Recorder down.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

var errExporterClosed = errors.New("metrics: exporter shut down")

type group struct {
	scope string
	attrs attribute.Set
	ts    int64
	ms    []metricData
}

type groupKey struct {
	scope string
	attrs attribute.Distinct
}

// Export writes rm as EMF documents.
func (e *Exporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if e == nil || e.r == nil || rm == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errExporterClosed
	}
	groups := map[groupKey]*group{}
	var order []groupKey
	add := func(scope string, attrs attribute.Set, t time.Time, m metricData) {
		attrs = e.guard(attrs)
		// One collection stamps each instrument separately, microseconds
		// apart: group by scope and attributes, stamp with the latest time.
		k := groupKey{scope, attrs.Equivalent()}
		g := groups[k]
		if g == nil {
			g = &group{scope: scope, attrs: attrs}
			groups[k] = g
			order = append(order, k)
		}
		g.ts = max(g.ts, t.UnixMilli())
		for i := range g.ms {
			if g.ms[i].name == m.name && g.ms[i].kind == m.kind {
				// Series folded into "other" meet here: keep every sample.
				mergeMetric(&g.ms[i], m)
				return
			}
		}
		g.ms = append(g.ms, m)
	}
	for _, sm := range rm.ScopeMetrics {
		scope := sm.Scope.Name
		for _, m := range sm.Metrics {
			unit, scale := otelUnit(m.Unit)
			sk := seriesKey{scope: scope, name: m.Name}
			switch data := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range data.DataPoints {
					add(scope, p.Attributes, p.Time, scalar(m.Name, unit, float64(p.Value)*scale))
				}
			case metricdata.Gauge[float64]:
				for _, p := range data.DataPoints {
					add(scope, p.Attributes, p.Time, scalar(m.Name, unit, p.Value*scale))
				}
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					sk.attrs = p.Attributes.Equivalent()
					if v, ok := e.sumValue(sk, data.Temporality, data.IsMonotonic, float64(p.Value)); ok {
						add(scope, p.Attributes, p.Time, scalar(m.Name, unit, v*scale))
					}
				}
			case metricdata.Sum[float64]:
				for _, p := range data.DataPoints {
					sk.attrs = p.Attributes.Equivalent()
					if v, ok := e.sumValue(sk, data.Temporality, data.IsMonotonic, p.Value); ok {
						add(scope, p.Attributes, p.Time, scalar(m.Name, unit, v*scale))
					}
				}
			case metricdata.Histogram[int64]:
				for _, p := range data.DataPoints {
					sk.attrs = p.Attributes.Equivalent()
					mn, okMin := p.Min.Value()
					mx, okMax := p.Max.Value()
					if md, ok := e.histogram(sk, data.Temporality, m.Name, unit, scale, p.Bounds, p.BucketCounts, p.Count, float64(p.Sum), float64(mn), okMin, float64(mx), okMax); ok {
						add(scope, p.Attributes, p.Time, md)
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					sk.attrs = p.Attributes.Equivalent()
					mn, okMin := p.Min.Value()
					mx, okMax := p.Max.Value()
					if md, ok := e.histogram(sk, data.Temporality, m.Name, unit, scale, p.Bounds, p.BucketCounts, p.Count, p.Sum, mn, okMin, mx, okMax); ok {
						add(scope, p.Attributes, p.Time, md)
					}
				}
			case metricdata.ExponentialHistogram[int64]:
				for _, p := range data.DataPoints {
					mn, okMin := p.Min.Value()
					mx, okMax := p.Max.Value()
					if md, ok := expHistogram(m.Name, unit, scale, p.Scale, p.ZeroCount, p.PositiveBucket, p.NegativeBucket, p.Count, float64(p.Sum), float64(mn), okMin, float64(mx), okMax); ok {
						add(scope, p.Attributes, p.Time, md)
					}
				}
			case metricdata.ExponentialHistogram[float64]:
				for _, p := range data.DataPoints {
					mn, okMin := p.Min.Value()
					mx, okMax := p.Max.Value()
					if md, ok := expHistogram(m.Name, unit, scale, p.Scale, p.ZeroCount, p.PositiveBucket, p.NegativeBucket, p.Count, p.Sum, mn, okMin, mx, okMax); ok {
						add(scope, p.Attributes, p.Time, md)
					}
				}
			default:
				e.r.rep.Report("metrics.otel.type", fmt.Errorf("metrics: OTel metric %q of type %T is not exported as EMF", truncForReport(m.Name), m.Data))
			}
		}
	}
	var firstErr error
	var d document
	for _, k := range order {
		g := groups[k]
		d.reset()
		d.namespace = e.r.namespace
		d.timestampMs = g.ts
		if now := e.r.now(); g.ts == 0 || now.Sub(time.UnixMilli(g.ts)) > time.Hour || time.UnixMilli(g.ts).Sub(now) > time.Hour {
			d.timestampMs = now.UnixMilli() // unset or implausible point time
		}
		d.logGroup, d.logStream = e.r.logGroup, e.r.logStream
		d.dims = append(d.dims, field{DimService, e.r.service})
		set := []string{DimService}
		iter := g.attrs.Iter()
		for iter.Next() {
			kv := iter.Attribute()
			key := string(kv.Key)
			if key == DimService {
				continue
			}
			if len(set) < maxDimKeys {
				k, _ := sanitizeDimKey(key)
				if hasDim(d.dims, k) {
					continue
				}
				d.dims = append(d.dims, field{k, kv.Value.String()})
				set = append(set, k)
			} else {
				d.props = append(d.props, prop{key, quoted(kv.Value.String())})
			}
		}
		d.sets = append(d.sets, set)
		if g.scope != "" {
			d.props = append(d.props, prop{emfspec.PropScope, quoted(g.scope)})
		}
		d.metrics = g.ms
		if err := e.enc.encode(&d, e.r.write); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if len(e.prev) > 4*e.maxSeries { // bound the delta state
		clear(e.prev)
	}
	return firstErr
}

// guard folds attribute values into "other" once maxSeries distinct
// attribute sets were seen.
func (e *Exporter) guard(attrs attribute.Set) attribute.Set {
	k := attrs.Equivalent()
	if _, ok := e.series[k]; ok || attrs.Len() == 0 {
		return attrs
	}
	if len(e.series) < e.maxSeries {
		e.series[k] = struct{}{}
		return attrs
	}
	if !e.folded {
		e.folded = true
		e.r.rep.Report("metrics.otel.cardinality", fmt.Errorf("metrics: more than %d OTel attribute sets; further values recorded as %q", e.maxSeries, OtherOperation))
	}
	kvs := attrs.ToSlice()
	for i := range kvs {
		kvs[i].Value = attribute.StringValue(OtherOperation)
	}
	return attribute.NewSet(kvs...)
}

// mergeMetric adds the samples of m to dst (same name and kind).
func mergeMetric(dst *metricData, m metricData) {
	if dst.kind == kindValues {
		dst.values = append(dst.values, m.values...)
		return
	}
	dst.hv = append(dst.hv, m.hv...)
	dst.hc = append(dst.hc, m.hc...)
	dst.min, dst.max, dst.sum = min(dst.min, m.min), max(dst.max, m.max), dst.sum+m.sum
	dst.hv, dst.hc = normalizeHist(dst.hv, dst.hc, dst.min, dst.max)
}

func scalar(name string, unit Unit, v float64) metricData {
	return metricData{name: name, unit: unit, values: []float64{v}}
}

func (e *Exporter) sumValue(k seriesKey, t metricdata.Temporality, monotonic bool, v float64) (float64, bool) {
	if t != metricdata.CumulativeTemporality || !monotonic {
		return v, true
	}
	p, seen := e.prev[k]
	e.prev[k] = prevPoint{value: v}
	if !seen || v < p.value {
		return v, true
	}
	return v - p.value, true
}

func (e *Exporter) histogram(k seriesKey, t metricdata.Temporality, name string, unit Unit, scale float64,
	bounds []float64, counts []uint64, count uint64, sum, mn float64, okMin bool, mx float64, okMax bool) (metricData, bool) {
	if t == metricdata.CumulativeTemporality {
		p, seen := e.prev[k]
		e.prev[k] = prevPoint{count: count, sum: sum, counts: append([]uint64(nil), counts...), bounds: append([]float64(nil), bounds...)}
		if seen && count >= p.count && equalFloats(bounds, p.bounds) && len(p.counts) == len(counts) {
			diff := make([]uint64, len(counts))
			for i := range counts {
				if counts[i] < p.counts[i] {
					diff = nil
					break
				}
				diff[i] = counts[i] - p.counts[i]
			}
			if diff != nil {
				counts, count, sum = diff, count-p.count, sum-p.sum
				okMin, okMax = false, false // extrema are for the whole series
			}
		}
	}
	if count == 0 {
		return metricData{}, false
	}
	n := len(bounds)
	vals := make([]float64, 0, len(counts))
	cnts := make([]float64, 0, len(counts))
	lowest, highest := math.Inf(1), math.Inf(-1)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		var lo, hi float64
		switch {
		case n == 0:
			lo, hi = sum/float64(count), sum/float64(count)
		case i == 0:
			lo, hi = bounds[0], bounds[0]
			if okMin {
				lo = min(mn, bounds[0])
			}
		case i >= n:
			lo, hi = bounds[n-1], bounds[n-1]
			if okMax {
				hi = max(mx, bounds[n-1])
			}
		default:
			lo, hi = bounds[i-1], bounds[i]
		}
		if okMin {
			lo = max(lo, mn)
		}
		if okMax {
			hi = min(hi, mx)
		}
		if lo > hi {
			lo = hi
		}
		lowest, highest = min(lowest, lo), max(highest, hi)
		vals = append(vals, (lo+hi)/2)
		cnts = append(cnts, float64(c))
	}
	if !okMin {
		mn = lowest
	}
	if !okMax {
		mx = highest
	}
	if len(vals) == 0 {
		return metricData{}, false
	}
	mn, mx = min(mn, mx), max(mn, mx)
	for i := range vals {
		vals[i] *= scale
	}
	vals, cnts = normalizeHist(vals, cnts, mn*scale, mx*scale)
	if len(vals) == 0 {
		return metricData{}, false
	}
	return metricData{name: name, unit: unit, kind: kindHist, hv: vals, hc: cnts, min: mn * scale, max: mx * scale, sum: sum * scale}, true
}

func expHistogram(name string, unit Unit, scale float64, expScale int32, zero uint64, pos, neg metricdata.ExponentialBucket,
	count uint64, sum, mn float64, okMin bool, mx float64, okMax bool) (metricData, bool) {
	if count == 0 {
		return metricData{}, false
	}
	base := math.Exp2(math.Exp2(-float64(expScale)))
	var vals, cnts []float64
	lowest, highest := math.Inf(1), math.Inf(-1)
	addBucket := func(lo, hi float64, c uint64) {
		if c == 0 {
			return
		}
		if okMin {
			lo, hi = max(lo, mn), max(hi, mn)
		}
		if okMax {
			lo, hi = min(lo, mx), min(hi, mx)
		}
		lowest, highest = min(lowest, lo), max(highest, hi)
		vals = append(vals, (lo+hi)/2)
		cnts = append(cnts, float64(c))
	}
	for i, c := range pos.Counts {
		idx := float64(pos.Offset) + float64(i)
		addBucket(math.Pow(base, idx), math.Pow(base, idx+1), c)
	}
	for i, c := range neg.Counts {
		idx := float64(neg.Offset) + float64(i)
		addBucket(-math.Pow(base, idx+1), -math.Pow(base, idx), c)
	}
	addBucket(0, 0, zero)
	if len(vals) == 0 {
		return metricData{}, false
	}
	if !okMin {
		mn = lowest
	}
	if !okMax {
		mx = highest
	}
	for i := range vals {
		vals[i] *= scale
	}
	vals, cnts = normalizeHist(vals, cnts, mn*scale, mx*scale)
	if len(vals) == 0 {
		return metricData{}, false
	}
	return metricData{name: name, unit: unit, kind: kindHist, hv: vals, hc: cnts, min: mn * scale, max: mx * scale, sum: sum * scale}, true
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// otelUnit maps a UCUM unit to a CloudWatch unit and a value multiplier.
func otelUnit(u string) (Unit, float64) {
	switch u {
	case "s":
		return Seconds, 1
	case "ms":
		return Milliseconds, 1
	case "us", "µs":
		return Microseconds, 1
	case "ns":
		return Microseconds, 1e-3
	case "By":
		return Bytes, 1
	case "KiBy", "kBy":
		return Kilobytes, 1
	case "MiBy", "MBy":
		return Megabytes, 1
	case "GiBy", "GBy":
		return Gigabytes, 1
	case "By/s":
		return BytesPerSecond, 1
	case "bit":
		return Bits, 1
	case "%":
		return Percent, 1
	case "1", "":
		return None, 1
	}
	if strings.HasPrefix(u, "{") && strings.HasSuffix(u, "}") {
		return Count, 1
	}
	if strings.HasPrefix(u, "{") && strings.HasSuffix(u, "}/s") {
		return CountPerSecond, 1
	}
	return None, 1
}
