package metrics

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/o11y-go/o11y/internal/emfvalidate"
)

// FuzzEventLogger feeds arbitrary metric names, dimension keys and values,
// namespaces, properties and numbers; every line written must validate.
func FuzzEventLogger(f *testing.F) {
	f.Add("Latency", "Operation", "GetItem", "Svc", "prop", "value", 12.5, uint8(1))
	f.Add("", ":bad", "héllo\n", "AWS/Lambda", "_aws", "x", math.NaN(), uint8(101))
	f.Add("Service", "Service", "", "", "Latency", "\u2028", math.Inf(-1), uint8(250))
	f.Add("a\x00b", "k", "   ", "ns!@", "k", "\xff\xfe", 1e-320, uint8(30))
	f.Fuzz(func(t *testing.T, name, dimKey, dimVal, ns, propKey, propVal string, v float64, n uint8) {
		var w lineBuffer
		r := New(Options{Namespace: ns, ServiceName: dimVal, FlushInterval: -1, Writer: &w, Now: func() time.Time { return T }})
		l := r.Logger(context.Background())
		l.PutDimensions(dimKey, dimVal, name, propVal)
		l.SetProperty(propKey, propVal)
		l.SetProperty(name, v)
		for i := 0; i < int(n); i++ {
			_ = l.PutMetric(name, v+float64(i), Unit(propVal))
			_ = l.PutMetric(name+dimKey, v*float64(i), Count)
		}
		_ = l.PutMetricResolution(dimKey, v, Milliseconds, HighResolution)
		_ = l.Flush()
		r.Operation(name).Observe(context.Background(), time.Duration(v), Flags(n))
		r.Operation(dimVal).Observe(context.Background(), time.Duration(n)*time.Hour, FlagFault)
		_ = r.Flush(context.Background())
		for _, line := range w.lines() {
			if err := emfvalidate.ValidateAt([]byte(line+"\n"), T); err != nil {
				t.Fatalf("invalid document: %v\n%s", err, line)
			}
		}
	})
}

// FuzzHistogram feeds arbitrary histogram data through normalizeHist and
// the encoder; the output must validate and keep the total count.
func FuzzHistogram(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 1.0, 100.0)
	f.Add([]byte{0, 0, 0, 0}, -5.0, 5.0)
	f.Fuzz(func(t *testing.T, raw []byte, lo, hi float64) {
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return
		}
		lo, hi = math.Min(lo, hi), math.Max(lo, hi)
		var vals, counts []float64
		for i := 0; i+1 < len(raw); i += 2 {
			vals = append(vals, lo+float64(raw[i])*(hi-lo)/255)
			counts = append(counts, float64(raw[i+1]))
		}
		vals, counts = normalizeHist(vals, counts, lo, hi)
		if len(vals) == 0 {
			return
		}
		var w lineBuffer
		enc := newEncoder(nil)
		d := document{namespace: "Svc", timestampMs: T.UnixMilli(), dims: []field{{"A", "b"}}, sets: [][]string{{"A"}},
			metrics: []metricData{{name: "H", unit: None, kind: kindHist, hv: vals, hc: counts, min: lo, max: hi, sum: (lo + hi) / 2}}}
		_ = enc.encode(&d, func(b []byte) error { _, err := w.Write(b); return err })
		for _, line := range w.lines() {
			if err := emfvalidate.ValidateAt([]byte(line+"\n"), T); err != nil {
				t.Fatalf("invalid document: %v\n%s", err, line)
			}
		}
	})
}
