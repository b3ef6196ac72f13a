package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/xrayid"
)

// EventLogger collects metrics, dimensions and properties for one event
// (typically one request or job) and writes them as one EMF document on
// Flush, in the style of the official aws-embedded-metrics libraries and
// Powertools. The document carries the request's X-Ray trace id
// (xray_trace_id) and request id (request_id) as properties.
//
// An EventLogger is safe for concurrent use; a nil *EventLogger does
// nothing. Its methods never panic on bad input: they sanitise or drop it,
// report it through the recorder's ErrorHandler, and return an error the
// caller may ignore.
type EventLogger struct {
	r *Recorder

	mu         sync.Mutex
	namespace  string
	ts         time.Time
	dims       []field
	sets       [][]string
	useDefault bool
	props      []prop
	metrics    []metricData
	index      map[string]int
	samples    int
}

// Logger returns an EventLogger bound to ctx: it reads the trace id of the
// span in ctx and the request id the middleware stored. A nil Recorder
// returns nil (whose methods do nothing).
func (r *Recorder) Logger(ctx context.Context) *EventLogger {
	if r == nil {
		return nil
	}
	l := &EventLogger{r: r, useDefault: true, index: map[string]int{}}
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.TraceID().IsValid() {
			l.props = append(l.props, prop{PropTraceID, quotedTraceID(sc.TraceID())})
		}
		if id := reqstate.RequestID(ctx); id != "" {
			l.props = append(l.props, prop{PropRequestID, quoted(id)})
		}
	}
	if r.opts.ServiceType != "" {
		l.props = append(l.props, prop{PropServiceType, quoted(r.opts.ServiceType)})
	}
	return l
}

// PutMetric adds one sample of a standard-resolution metric. Repeated calls
// with the same name collect the samples into one array (split into several
// documents past 100 values).
func (l *EventLogger) PutMetric(name string, value float64, unit Unit) error {
	return l.PutMetricResolution(name, value, unit, StandardResolution)
}

// Errors returned by EventLogger methods (also reported).
var (
	ErrInvalidValue      = errors.New("metrics: value is NaN, infinite or beyond 2^360")
	ErrInvalidUnit       = errors.New("metrics: not a CloudWatch unit; None used")
	ErrInvalidResolution = errors.New("metrics: storage resolution must be 1 or 60")
	ErrResolution        = errors.New("metrics: a metric cannot change its storage resolution")
	ErrNameCollision     = errors.New("metrics: metric name collides with a dimension key or _aws")
	ErrTimestamp         = errors.New("metrics: timestamp outside 14 days back .. 2 hours ahead")
)

// PutMetricResolution is PutMetric with an explicit storage resolution
// ([HighResolution] or [StandardResolution]). A metric keeps the resolution
// of its first sample; a conflicting sample is rejected with [ErrResolution].
func (l *EventLogger) PutMetricResolution(name string, value float64, unit Unit, res Resolution) error {
	if l == nil {
		return nil
	}
	var err error
	if res != HighResolution && res != StandardResolution {
		err = fmt.Errorf("%w (got %d for %q)", ErrInvalidResolution, res, truncForReport(name))
	} else if v, ok := cleanValue(value); !ok {
		err = fmt.Errorf("%w (%v for %q)", ErrInvalidValue, value, truncForReport(name))
	} else {
		value = v
	}
	if err != nil {
		l.r.rep.Report("metrics.logger.value", err)
		return err
	}
	if !unit.Valid() {
		err = fmt.Errorf("%w (%q for %q)", ErrInvalidUnit, truncForReport(string(unit)), truncForReport(name))
		l.r.rep.Report("metrics.logger.unit", err)
		unit = None
	}
	name, _ = sanitizeName(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if hasDim(l.dims, name) {
		err = fmt.Errorf("%w (%q)", ErrNameCollision, name)
		l.r.rep.Report("metrics.logger.name", err)
		return err
	}
	if i, ok := l.index[name]; ok {
		m := &l.metrics[i]
		if m.res != res {
			err = fmt.Errorf("%w (%q)", ErrResolution, name)
			l.r.rep.Report("metrics.logger.resolution", err)
			return err
		}
		m.values = append(m.values, value)
	} else {
		l.index[name] = len(l.metrics)
		l.metrics = append(l.metrics, metricData{name: name, unit: unit, res: res, values: []float64{value}})
	}
	// Bound memory: a logger that is never flushed writes what it holds
	// every maxLoggerSamples samples (as Powertools flushes at its limits).
	if l.samples++; l.samples >= maxLoggerSamples {
		if ferr := l.flushLocked(); ferr != nil && err == nil {
			err = ferr
		}
	}
	return err
}

// maxLoggerSamples is how many samples an EventLogger holds before it
// flushes on its own.
const maxLoggerSamples = 10000

// PutDimensions adds one dimension set from alternating keys and values,
// e.g. PutDimensions("Operation", "GetItem", "Table", "orders"). Unless
// SetDimensions was called, the Service dimension is prepended to every
// set. A key given again takes the newer value (a document holds one value
// per key); a set with the same keys as an earlier one replaces it.
func (l *EventLogger) PutDimensions(kv ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.putSet(kv)
}

// SetDimensions replaces every dimension set with the given ones (each a
// list of alternating keys and values) and drops the default Service
// dimension. SetDimensions() with no sets publishes without dimensions.
func (l *EventLogger) SetDimensions(sets ...[]string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.useDefault = false
	l.dims, l.sets = l.dims[:0], l.sets[:0]
	for _, kv := range sets {
		l.putSet(kv)
	}
	if len(sets) == 0 {
		l.sets = append(l.sets, []string{})
	}
}

func (l *EventLogger) putSet(kv []string) {
	if len(kv)%2 != 0 {
		l.r.rep.Report("metrics.logger.dimension", errors.New("metrics: odd number of dimension arguments; last key dropped"))
		kv = kv[:len(kv)-1]
	}
	var set []string
	for i := 0; i < len(kv); i += 2 {
		k, c1 := sanitizeDimKey(kv[i])
		v, c2 := sanitizeDimValue(kv[i+1])
		if c1 || c2 {
			l.r.rep.Report("metrics.emf.dimension", fmt.Errorf("metrics: dimension %q sanitised", truncForReport(kv[i])))
		}
		if k == DimService && l.useDefault {
			continue
		}
		if _, isMetric := l.index[k]; isMetric || k == "_aws" {
			l.r.rep.Report("metrics.logger.dimension", fmt.Errorf("metrics: dimension %q collides with a metric; dropped", k))
			continue
		}
		replaced := false
		for j := range l.dims {
			if l.dims[j].key == k {
				l.dims[j].value = v
				replaced = true
			}
		}
		if !replaced {
			l.dims = append(l.dims, field{k, v})
		}
		if !containsStr(set, k) {
			set = append(set, k)
		}
	}
	limit := maxDimKeys
	if l.useDefault {
		limit--
	}
	if len(set) > limit {
		l.r.rep.Report("metrics.logger.dimension", fmt.Errorf("metrics: dimension set has %d keys; cut to %d", len(set), limit))
		set = set[:limit]
	}
	for i, s := range l.sets {
		if sameSet(s, set) {
			l.sets[i] = set
			return
		}
	}
	l.sets = append(l.sets, set)
}

// SetProperty adds a root member that is searchable in Logs Insights but is
// not a metric. Strings longer than 2 KiB are cut. A key that names a
// dimension, a metric or "_aws" is dropped at Flush.
func (l *EventLogger) SetProperty(key string, value any) {
	if l == nil {
		return
	}
	raw := appendAny(nil, value)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.props {
		if l.props[i].key == key {
			l.props[i].raw = raw
			return
		}
	}
	l.props = append(l.props, prop{key, raw})
}

// SetNamespace overrides the recorder's namespace for this logger.
func (l *EventLogger) SetNamespace(ns string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.namespace = ns
	l.mu.Unlock()
}

// SetTimestamp sets the document timestamp (default: the time of Flush).
// A time outside CloudWatch's window is rejected with [ErrTimestamp].
func (l *EventLogger) SetTimestamp(t time.Time) error {
	if l == nil {
		return nil
	}
	now := l.r.now()
	if t.Before(now.Add(-14*24*time.Hour)) || t.After(now.Add(2*time.Hour)) {
		l.r.rep.Report("metrics.logger.timestamp", ErrTimestamp)
		return ErrTimestamp
	}
	l.mu.Lock()
	l.ts = t
	l.mu.Unlock()
	return nil
}

var encPool = sync.Pool{New: func() any { return &encoder{maxDoc: maxDoc} }}

// Flush writes the collected metrics (as many documents as the limits
// require) and clears them; dimensions and properties stay for the next
// Flush. Nothing is written when no metric was put.
func (l *EventLogger) Flush() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *EventLogger) flushLocked() error {
	if len(l.metrics) == 0 {
		return nil
	}
	r := l.r
	var d document
	d.namespace = r.namespace
	if l.namespace != "" {
		d.namespace = l.namespace
	}
	ts := l.ts
	if ts.IsZero() {
		ts = r.now()
	}
	d.timestampMs = ts.UnixMilli()
	d.logGroup, d.logStream = r.logGroup, r.logStream
	if l.useDefault {
		d.dims = append(d.dims, field{DimService, r.service})
	}
	d.dims = append(d.dims, l.dims...)
	for _, set := range l.sets {
		if l.useDefault {
			set = append([]string{DimService}, set...)
		}
		d.sets = append(d.sets, set)
	}
	if l.useDefault && len(d.sets) == 0 {
		d.sets = append(d.sets, []string{DimService})
	}
	d.props = append(d.props, l.props...)
	d.metrics = l.metrics
	enc := encPool.Get().(*encoder)
	enc.rep = r.rep
	err := enc.encode(&d, func(line []byte) error { return r.write(line) })
	enc.rep = nil
	encPool.Put(enc)
	l.metrics = nil
	l.samples = 0
	clear(l.index)
	return err
}

// write sends one line to the sink, keeping it for the next flush when the
// sink fails.
func (r *Recorder) write(line []byte) error {
	if err := r.sink.writeLine(line); err != nil {
		r.rep.Report("metrics.sink", fmt.Errorf("metrics: writing EMF failed; keeping lines for the next flush: %w", err))
		r.pending.add(line, r.rep)
		return err
	}
	return nil
}

// appendAny appends v as a JSON value of bounded size.
func appendAny(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return jsonenc.AppendStringTrunc(dst, x, maxPropLen, "…")
	case bool:
		return jsonenc.AppendBool(dst, x)
	case int:
		return jsonenc.AppendInt(dst, int64(x))
	case int8:
		return jsonenc.AppendInt(dst, int64(x))
	case int16:
		return jsonenc.AppendInt(dst, int64(x))
	case int32:
		return jsonenc.AppendInt(dst, int64(x))
	case int64:
		return jsonenc.AppendInt(dst, x)
	case uint:
		return jsonenc.AppendUint(dst, uint64(x))
	case uint8:
		return jsonenc.AppendUint(dst, uint64(x))
	case uint16:
		return jsonenc.AppendUint(dst, uint64(x))
	case uint32:
		return jsonenc.AppendUint(dst, uint64(x))
	case uint64:
		return jsonenc.AppendUint(dst, x)
	case float32:
		return jsonenc.AppendFloat(dst, float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...)
		}
		return jsonenc.AppendFloat(dst, x)
	case time.Duration:
		return jsonenc.AppendString(dst, x.String())
	case time.Time:
		return jsonenc.AppendString(dst, x.UTC().Format(time.RFC3339Nano))
	case trace.TraceID:
		dst = append(dst, '"')
		return append(xrayid.AppendTraceID(dst, x), '"')
	case error:
		return jsonenc.AppendStringTrunc(dst, x.Error(), maxPropLen, "…")
	case fmt.Stringer:
		return jsonenc.AppendStringTrunc(dst, x.String(), maxPropLen, "…")
	}
	if b, err := json.Marshal(v); err == nil && len(b) <= maxPropLen {
		return append(dst, b...)
	}
	return jsonenc.AppendStringTrunc(dst, fmt.Sprint(v), maxPropLen, "…")
}
