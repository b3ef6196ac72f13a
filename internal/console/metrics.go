package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bounds of the metric store.
const (
	maxSeries          = 5000
	maxPointsPerSeries = 20000
	maxValuesPerMetric = 1000
)

// Exemplar property names written by the metrics package's Recorder.
const (
	propSlowestTrace = "slowest_xray_trace_id"
	propFaultTrace   = "fault_xray_trace_id"
	propTraceID      = "xray_trace_id"
)

type point struct {
	t      int64 // ms
	values []float64
	counts []float64
	sum    float64
	count  float64
	min    float64
	max    float64
}

type exemplar struct {
	T     int64  `json:"t"`
	Kind  string `json:"kind"` // slowest, fault, event
	Trace string `json:"trace"`
}

type series struct {
	namespace, name, unit string
	dims                  map[string]string
	key                   string
	points                []point
	exemplars             []exemplar
}

type metricStore struct {
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	series map[string]*series
}

func newMetricStore(window time.Duration, now func() time.Time) *metricStore {
	return &metricStore{window: window, now: now, series: map[string]*series{}}
}

var (
	errNoAWS        = errors.New("EMF: no _aws object")
	errNoMetrics    = errors.New("EMF: no CloudWatchMetrics")
	errNoTimestamp  = errors.New("EMF: _aws.Timestamp missing or not a number")
	errNotJSON      = errors.New("not a JSON object")
	errBadDimension = errors.New("EMF: dimension value missing or not a string")
)

type emfAWS struct {
	Timestamp         *float64 `json:"Timestamp"`
	CloudWatchMetrics []struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []struct {
			Name string `json:"Name"`
			Unit string `json:"Unit"`
		} `json:"Metrics"`
	} `json:"CloudWatchMetrics"`
}

// parseEMF parses one EMF document and returns the points it contributes.
type emfPoint struct {
	namespace, name, unit string
	dims                  map[string]string
	p                     point
}

func parseEMF(line []byte) (pts []emfPoint, ex []exemplar, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return nil, nil, errNotJSON
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, nil, err
	}
	rawAWS, ok := m["_aws"]
	if !ok {
		return nil, nil, errNoAWS
	}
	var a emfAWS
	if err := json.Unmarshal(rawAWS, &a); err != nil {
		return nil, nil, err
	}
	if a.Timestamp == nil || math.IsNaN(*a.Timestamp) || *a.Timestamp < 0 || *a.Timestamp > 1e15 {
		return nil, nil, errNoTimestamp
	}
	if len(a.CloudWatchMetrics) == 0 {
		return nil, nil, errNoMetrics
	}
	ts := int64(*a.Timestamp)
	str := func(k string) (string, bool) {
		var s string
		raw, ok := m[k]
		if !ok || json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	for _, k := range []struct{ prop, kind string }{{propSlowestTrace, "slowest"}, {propFaultTrace, "fault"}, {propTraceID, "event"}} {
		if s, ok := str(k.prop); ok && s != "" && len(s) <= maxTraceIDBytes {
			ex = append(ex, exemplar{T: ts, Kind: k.kind, Trace: s})
		}
	}
	for _, d := range a.CloudWatchMetrics {
		for _, md := range d.Metrics {
			raw, ok := m[md.Name]
			if !ok || md.Name == "" {
				continue
			}
			p, ok := parseValue(raw)
			if !ok {
				continue
			}
			p.t = ts
			sets := d.Dimensions
			if len(sets) == 0 {
				sets = [][]string{{}}
			}
			for _, set := range sets {
				dims := make(map[string]string, len(set))
				for _, k := range set {
					v, ok := str(k)
					if !ok {
						return nil, nil, errBadDimension
					}
					dims[k] = v
				}
				pts = append(pts, emfPoint{namespace: d.Namespace, name: md.Name, unit: md.Unit, dims: dims, p: p})
			}
		}
	}
	return pts, ex, nil
}

// parseValue reads a metric member: a number, an array of numbers or a
// {Values,Counts,Max,Min,Count,Sum} object.
func parseValue(raw json.RawMessage) (point, bool) {
	var p point
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return p, false
	}
	switch raw[0] {
	case '[':
		var vs []float64
		if json.Unmarshal(raw, &vs) != nil || len(vs) == 0 || len(vs) > maxValuesPerMetric {
			return p, false
		}
		p.values = vs
	case '{':
		var o struct {
			Values []float64 `json:"Values"`
			Counts []float64 `json:"Counts"`
			Max    *float64  `json:"Max"`
			Min    *float64  `json:"Min"`
			Count  *float64  `json:"Count"`
			Sum    *float64  `json:"Sum"`
		}
		if json.Unmarshal(raw, &o) != nil || len(o.Values) > maxValuesPerMetric {
			return p, false
		}
		if len(o.Counts) > 0 && len(o.Counts) != len(o.Values) {
			return p, false
		}
		p.values, p.counts = o.Values, o.Counts
		if len(o.Values) == 0 {
			if o.Count == nil || o.Sum == nil {
				return p, false
			}
			p.count, p.sum = *o.Count, *o.Sum
			if o.Min != nil {
				p.min = *o.Min
			}
			if o.Max != nil {
				p.max = *o.Max
			}
			return p, finite(p.count, p.sum, p.min, p.max)
		}
	default:
		var v float64
		if json.Unmarshal(raw, &v) != nil {
			return p, false
		}
		p.values = []float64{v}
	}
	p.min, p.max = math.Inf(1), math.Inf(-1)
	for i, v := range p.values {
		c := 1.0
		if p.counts != nil {
			c = p.counts[i]
		}
		if !finite(v, c) || c < 0 {
			return p, false
		}
		p.sum += v * c
		p.count += c
		if c > 0 {
			p.min, p.max = math.Min(p.min, v), math.Max(p.max, v)
		}
	}
	if p.count == 0 {
		p.min, p.max = 0, 0
	}
	return p, true
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func seriesKey(ns, name string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(ns)
	b.WriteByte(0)
	b.WriteString(name)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(dims[k])
	}
	return b.String()
}

// add stores the points of one document. It reports false when the series
// bound was reached and a new series was dropped.
func (ms *metricStore) add(pts []emfPoint, ex []exemplar) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ok := true
	cut := ms.now().Add(-ms.window).UnixMilli()
	for i := range pts {
		ep := &pts[i]
		if ep.p.t < cut {
			continue
		}
		k := seriesKey(ep.namespace, ep.name, ep.dims)
		s := ms.series[k]
		if s == nil {
			if len(ms.series) >= maxSeries {
				ms.expire(cut)
				if len(ms.series) >= maxSeries {
					ok = false
					continue
				}
			}
			s = &series{namespace: ep.namespace, name: ep.name, unit: ep.unit, dims: ep.dims, key: k}
			ms.series[k] = s
		}
		if len(s.points) >= maxPointsPerSeries {
			s.points = append(s.points[:0], s.points[len(s.points)/2:]...)
		}
		s.points = append(s.points, ep.p)
		for _, e := range ex {
			if (e.Kind == "slowest" && ep.name != "Latency") || (e.Kind == "fault" && ep.name != "Fault") {
				continue
			}
			if len(s.exemplars) >= 1000 {
				s.exemplars = append(s.exemplars[:0], s.exemplars[500:]...)
			}
			s.exemplars = append(s.exemplars, e)
		}
	}
	return ok
}

// expire drops points older than cut and empty series. Callers hold mu.
func (ms *metricStore) expire(cut int64) {
	for k, s := range ms.series {
		i := 0
		for i < len(s.points) && s.points[i].t < cut {
			i++
		}
		s.points = s.points[i:]
		j := 0
		for j < len(s.exemplars) && s.exemplars[j].T < cut {
			j++
		}
		s.exemplars = s.exemplars[j:]
		if len(s.points) == 0 {
			delete(ms.series, k)
		}
	}
}

// SeriesPoint is one bucket of a series.
type SeriesPoint struct {
	T     int64   `json:"t"` // bucket start, ms
	Count float64 `json:"count"`
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
}

// SeriesOut is one metric series as the metrics view draws it.
type SeriesOut struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Unit      string            `json:"unit"`
	Dims      map[string]string `json:"dims"`
	Points    []SeriesPoint     `json:"points"`
	Exemplars []exemplar        `json:"exemplars"`
}

// query returns every series with points in the window, bucketed by step.
func (ms *metricStore) query(window, step time.Duration) []SeriesOut {
	if step <= 0 {
		step = 10 * time.Second
	}
	if window <= 0 || window > ms.window {
		window = ms.window
	}
	now := ms.now()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.expire(now.Add(-ms.window).UnixMilli())
	from := now.Add(-window).UnixMilli()
	stepMS := step.Milliseconds()
	out := []SeriesOut{}
	for _, s := range ms.series {
		so := SeriesOut{Namespace: s.namespace, Name: s.name, Unit: s.unit, Dims: s.dims, Exemplars: []exemplar{}}
		buckets := map[int64]*bucket{}
		for i := range s.points {
			p := &s.points[i]
			if p.t < from {
				continue
			}
			bt := p.t - p.t%stepMS
			b := buckets[bt]
			if b == nil {
				b = &bucket{min: math.Inf(1), max: math.Inf(-1)}
				buckets[bt] = b
			}
			b.add(p)
		}
		if len(buckets) == 0 {
			continue
		}
		for bt, b := range buckets {
			so.Points = append(so.Points, b.point(bt))
		}
		sort.Slice(so.Points, func(i, j int) bool { return so.Points[i].T < so.Points[j].T })
		for _, e := range s.exemplars {
			if e.T >= from {
				so.Exemplars = append(so.Exemplars, e)
			}
		}
		if len(so.Exemplars) > 50 {
			so.Exemplars = so.Exemplars[len(so.Exemplars)-50:]
		}
		out = append(out, so)
	}
	sort.Slice(out, func(i, j int) bool {
		return seriesKey(out[i].Namespace, out[i].Name, out[i].Dims) < seriesKey(out[j].Namespace, out[j].Name, out[j].Dims)
	})
	return out
}

type bucket struct {
	vals       map[float64]float64
	sum, count float64
	min, max   float64
}

func (b *bucket) add(p *point) {
	b.sum += p.sum
	b.count += p.count
	if p.count > 0 {
		b.min, b.max = math.Min(b.min, p.min), math.Max(b.max, p.max)
	}
	if b.vals == nil {
		b.vals = map[float64]float64{}
	}
	for i, v := range p.values {
		c := 1.0
		if p.counts != nil {
			c = p.counts[i]
		}
		b.vals[v] += c
	}
}

func (b *bucket) point(t int64) SeriesPoint {
	sp := SeriesPoint{T: t, Count: b.count, Sum: b.sum, Min: b.min, Max: b.max}
	if b.count == 0 {
		sp.Min, sp.Max = 0, 0
	}
	if len(b.vals) > 0 {
		vs := make([]float64, 0, len(b.vals))
		for v := range b.vals {
			vs = append(vs, v)
		}
		sort.Float64s(vs)
		var total float64
		for _, v := range vs {
			total += b.vals[v]
		}
		q := func(q float64) float64 {
			target, acc := q*total, 0.0
			for _, v := range vs {
				acc += b.vals[v]
				if acc >= target {
					return v
				}
			}
			return vs[len(vs)-1]
		}
		sp.P50, sp.P99 = q(0.5), q(0.99)
	} else if b.count > 0 {
		sp.P50, sp.P99 = b.sum/b.count, b.max // a statistic set has no distribution
	}
	return sp
}
