package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/o11y-go/o11y/internal/emfspec"
	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/report"
)

// maxDoc is the longest document body: body + '\n' must stay below
// emfspec.MaxLine, the line budget.
const maxDoc = emfspec.MaxLine - 2

// histReserve bounds the bytes of a histogram object outside its Values and
// Counts arrays: the member names and four numbers of at most 24 bytes each.
const histReserve = 160

type metricKind uint8

const (
	kindValues metricKind = iota // a scalar or an array of samples
	kindHist                     // {Values,Counts,Max,Min,Count,Sum}
)

// metricData is one metric of a document.
type metricData struct {
	name   string
	unit   Unit
	res    Resolution
	kind   metricKind
	values []float64 // kindValues: samples
	// kindHist: distinct values, ascending, each within [min,max], with
	// positive counts; min, max and sum are exact over the whole histogram.
	hv, hc        []float64
	min, max, sum float64
}

type field struct{ key, value string }

// prop is a root member that is not a metric target: its value is already
// valid JSON.
type prop struct {
	key string
	raw []byte
}

// document is everything one logical EMF document carries before splitting.
type document struct {
	namespace           string
	timestampMs         int64
	logGroup, logStream string
	dims                []field    // root string members referenced by sets
	sets                [][]string // dimension sets (keys of dims)
	props               []prop
	metrics             []metricData
}

func (d *document) reset() {
	d.namespace, d.logGroup, d.logStream = "", "", ""
	d.timestampMs = 0
	d.dims = d.dims[:0]
	d.sets = d.sets[:0]
	d.props = d.props[:0]
	d.metrics = d.metrics[:0]
}

// encoder turns documents into lines, splitting whenever a limit would be
// crossed. It keeps its buffers between calls; not safe for concurrent use.
type encoder struct {
	rep                   *report.Reporter
	head, mid, defs, vals []byte
	tmpV, tmpC, line      []byte
	cursor                []int
	maxDoc                int
}

func newEncoder(rep *report.Reporter) *encoder { return &encoder{rep: rep, maxDoc: maxDoc} }

var errTooLarge = errors.New("metrics: EMF document cannot fit in one line even without properties")

// encode normalises d (sanitising and reporting anything invalid) and calls
// emit once per line (each ending in '\n'; the slice is reused after emit
// returns). It returns the first emit error; later lines are still offered.
func (e *encoder) encode(d *document, emit func(line []byte) error) error {
	e.normalize(d)
	if len(d.metrics) == 0 {
		return nil
	}
	e.buildHeader(d)
	fixed := len(e.head) + len(e.mid) + 1
	// A document must leave room for at least a large value chunk: drop
	// properties from the end, then shorten dimension values.
	for fixed > e.maxDoc-1024 && len(d.props) > 0 {
		d.props = d.props[:len(d.props)-1]
		e.rep.Report("metrics.emf.property_dropped", errors.New("metrics: property dropped to keep the EMF line under 16 KiB"))
		e.buildHeader(d)
		fixed = len(e.head) + len(e.mid) + 1
	}
	for limit := maxDimValueLen / 2; fixed > e.maxDoc-1024 && limit >= 8; limit /= 2 {
		for i := range d.dims {
			if len(d.dims[i].value) > limit {
				d.dims[i].value = d.dims[i].value[:limit]
				if blank(d.dims[i].value) {
					d.dims[i].value = "unknown"
				}
			}
		}
		e.rep.Report("metrics.emf.dimension_truncated", errors.New("metrics: dimension values shortened to keep the EMF line under 16 KiB"))
		e.buildHeader(d)
		fixed = len(e.head) + len(e.mid) + 1
	}
	if fixed > e.maxDoc-1024 {
		e.rep.Report("metrics.emf.too_large", errTooLarge)
		return errTooLarge
	}

	if cap(e.cursor) < len(d.metrics) {
		e.cursor = make([]int, len(d.metrics))
	}
	cursor := e.cursor[:len(d.metrics)]
	clear(cursor)
	remaining := len(d.metrics)
	var firstErr error
	for remaining > 0 {
		e.defs, e.vals = e.defs[:0], e.vals[:0]
		n := 0
		for i := range d.metrics {
			m := &d.metrics[i]
			total := m.entries()
			if cursor[i] >= total {
				continue
			}
			if n == maxMetrics {
				break
			}
			defStart, valStart := len(e.defs), len(e.vals)
			if n > 0 {
				e.defs = append(e.defs, ',')
			}
			e.defs = appendDef(e.defs, m)
			e.vals = jsonenc.AppendKey(e.vals, m.name, true)
			room := e.maxDoc - (fixed + len(e.defs) + len(e.vals))
			used := e.appendChunk(m, cursor[i], room)
			if used == 0 {
				e.defs, e.vals = e.defs[:defStart], e.vals[:valStart]
				continue
			}
			cursor[i] += used
			if cursor[i] >= total {
				remaining--
			}
			n++
		}
		if n == 0 { // cannot happen with the header bound above; never loop
			e.rep.Report("metrics.emf.too_large", errTooLarge)
			return errTooLarge
		}
		e.line = append(e.line[:0], e.head...)
		e.line = append(e.line, e.defs...)
		e.line = append(e.line, e.mid...)
		e.line = append(e.line, e.vals...)
		e.line = append(e.line, '}', '\n')
		if err := emit(e.line); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if cap(e.line) > 4*emfspec.MaxLine { // never keep an oversized buffer around
		e.line = nil
	}
	return firstErr
}

func (m *metricData) entries() int {
	if m.kind == kindHist {
		return len(m.hv)
	}
	return len(m.values)
}

func (e *encoder) buildHeader(d *document) {
	b := append(e.head[:0], `{"_aws":{"Timestamp":`...)
	b = jsonenc.AppendInt(b, d.timestampMs)
	if d.logGroup != "" {
		b = append(b, `,"LogGroupName":`...)
		b = jsonenc.AppendString(b, d.logGroup)
		if d.logStream != "" {
			b = append(b, `,"LogStreamName":`...)
			b = jsonenc.AppendString(b, d.logStream)
		}
	}
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = jsonenc.AppendString(b, d.namespace)
	b = append(b, `,"Dimensions":[`...)
	for i, set := range d.sets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, k := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, k)
		}
		b = append(b, ']')
	}
	b = append(b, `],"Metrics":[`...)
	e.head = b

	m := append(e.mid[:0], "]}]}"...)
	for _, f := range d.dims {
		m = jsonenc.AppendKey(m, f.key, true)
		m = jsonenc.AppendString(m, f.value)
	}
	for _, p := range d.props {
		m = jsonenc.AppendKey(m, p.key, true)
		m = append(m, p.raw...)
	}
	e.mid = m
}

func appendDef(b []byte, m *metricData) []byte {
	b = append(b, `{"Name":`...)
	b = jsonenc.AppendString(b, m.name)
	b = append(b, `,"Unit":`...)
	b = jsonenc.AppendString(b, string(m.unit))
	if m.res == HighResolution {
		b = append(b, `,"StorageResolution":1`...)
	}
	return append(b, '}')
}

// appendChunk appends the next chunk of m starting at entry from, within
// room bytes, and returns how many entries it consumed (0: nothing fits).
func (e *encoder) appendChunk(m *metricData, from, room int) int {
	if m.kind == kindHist {
		return e.appendHistChunk(m, from, room)
	}
	if from == 0 && len(m.values) == 1 {
		start := len(e.vals)
		e.vals = jsonenc.AppendFloat(e.vals, m.values[0])
		if len(e.vals)-start > room {
			e.vals = e.vals[:start]
			return 0
		}
		return 1
	}
	start := len(e.vals)
	e.vals = append(e.vals, '[')
	n := 0
	for i := from; i < len(m.values) && n < maxValues; i++ {
		mark := len(e.vals)
		if n > 0 {
			e.vals = append(e.vals, ',')
		}
		e.vals = jsonenc.AppendFloat(e.vals, m.values[i])
		if len(e.vals)-start+1 > room {
			e.vals = e.vals[:mark]
			break
		}
		n++
	}
	if n == 0 {
		e.vals = e.vals[:start]
		return 0
	}
	e.vals = append(e.vals, ']')
	return n
}

func (e *encoder) appendHistChunk(m *metricData, from, room int) int {
	e.tmpV, e.tmpC = e.tmpV[:0], e.tmpC[:0]
	n := 0
	count, approx := 0.0, 0.0
	for i := from; i < len(m.hv) && n < maxValues; i++ {
		mv, mc := len(e.tmpV), len(e.tmpC)
		if n > 0 {
			e.tmpV = append(e.tmpV, ',')
			e.tmpC = append(e.tmpC, ',')
		}
		e.tmpV = jsonenc.AppendFloat(e.tmpV, m.hv[i])
		e.tmpC = jsonenc.AppendFloat(e.tmpC, m.hc[i])
		if len(e.tmpV)+len(e.tmpC)+histReserve > room {
			e.tmpV, e.tmpC = e.tmpV[:mv], e.tmpC[:mc]
			break
		}
		count += m.hc[i]
		approx += m.hv[i] * m.hc[i]
		n++
	}
	if n == 0 {
		return 0
	}
	end := from + n
	lo, hi := m.hv[from], m.hv[end-1]
	if from == 0 {
		lo = m.min
	}
	if end == len(m.hv) {
		hi = m.max
	}
	sum := m.sum
	if from != 0 || end != len(m.hv) {
		// Split histogram: each part carries its share of the exact sum, in
		// proportion to its bucket midpoints, so the parts add up to Sum.
		total := 0.0
		for i := range m.hv {
			total += m.hv[i] * m.hc[i]
		}
		sum = approx
		if total != 0 {
			if s := approx * (m.sum / total); !math.IsNaN(s) && !math.IsInf(s, 0) {
				sum = s
			}
		}
	}
	b := append(e.vals, `{"Values":[`...)
	b = append(b, e.tmpV...)
	b = append(b, `],"Counts":[`...)
	b = append(b, e.tmpC...)
	b = append(b, `],"Max":`...)
	b = jsonenc.AppendFloat(b, hi)
	b = append(b, `,"Min":`...)
	b = jsonenc.AppendFloat(b, lo)
	b = append(b, `,"Count":`...)
	b = jsonenc.AppendFloat(b, count)
	b = append(b, `,"Sum":`...)
	b = jsonenc.AppendFloat(b, clampFinite(sum))
	e.vals = append(b, '}')
	return n
}

func clampFinite(v float64) float64 {
	v, ok := cleanValue(v)
	if !ok {
		return 0
	}
	return v
}

// normalize sanitises d in place so that encoding it can only produce valid
// documents; every change is reported (rate-limited, one key per kind).
func (e *encoder) normalize(d *document) {
	if ns, changed := emfspec.SanitizeNamespace(d.namespace, ""); changed {
		e.rep.Report("metrics.emf.namespace", fmt.Errorf("metrics: namespace %q rewritten to %q", truncForReport(d.namespace), ns))
		d.namespace = ns
	}
	// Dimensions: sanitise, first key wins.
	keep := d.dims[:0]
	for _, f := range d.dims {
		k, c1 := sanitizeDimKey(f.key)
		v, c2 := sanitizeDimValue(f.value)
		if c1 || c2 {
			e.rep.Report("metrics.emf.dimension", fmt.Errorf("metrics: dimension %q sanitised", truncForReport(f.key)))
		}
		if hasDim(keep, k) {
			e.rep.Report("metrics.emf.dimension", fmt.Errorf("metrics: duplicate dimension %q dropped", k))
			continue
		}
		keep = append(keep, field{k, v})
	}
	d.dims = keep
	// Sets: only known keys, no duplicates, at most 30.
	sets := d.sets[:0]
	for _, set := range d.sets {
		out := set
		if !cleanSet(set, d.dims) { // rebuild; never write into the caller's slice
			out = make([]string, 0, min(len(set), maxDimKeys))
			for _, k := range set {
				k, _ = sanitizeDimKey(k)
				if !hasDim(d.dims, k) || containsStr(out, k) {
					e.rep.Report("metrics.emf.dimension_set", fmt.Errorf("metrics: dimension set key %q unknown or repeated; dropped", k))
					continue
				}
				if len(out) == maxDimKeys {
					e.rep.Report("metrics.emf.dimension_set", errors.New("metrics: dimension set cut to 30 keys"))
					break
				}
				out = append(out, k)
			}
		}
		dup := false
		for _, s := range sets {
			if sameSet(s, out) {
				dup = true
				break
			}
		}
		if !dup {
			sets = append(sets, out)
		}
	}
	if len(sets) == 0 {
		sets = append(sets, []string{})
	}
	d.sets = sets
	// Metrics.
	ms := d.metrics[:0]
	for _, m := range d.metrics {
		name, changed := sanitizeName(m.name)
		if changed {
			e.rep.Report("metrics.emf.name", fmt.Errorf("metrics: metric name %q rewritten to %q", truncForReport(m.name), name))
		}
		m.name = name
		if hasDim(d.dims, name) || hasMetric(ms, name) {
			e.rep.Report("metrics.emf.name", fmt.Errorf("metrics: metric %q collides with a dimension or another metric; dropped", name))
			continue
		}
		if !m.unit.Valid() {
			e.rep.Report("metrics.emf.unit", fmt.Errorf("metrics: unit %q of %q is not a CloudWatch unit; using None", truncForReport(string(m.unit)), name))
			m.unit = None
		}
		if m.res != HighResolution {
			m.res = StandardResolution
		}
		if m.kind == kindHist {
			if !histOK(&m) {
				e.rep.Report("metrics.emf.value", fmt.Errorf("metrics: histogram %q has non-finite or inconsistent data; dropped", name))
				continue
			}
		} else {
			vals := m.values[:0]
			for _, v := range m.values {
				cv, ok := cleanValue(v)
				if !ok {
					e.rep.Report("metrics.emf.value", fmt.Errorf("metrics: value %v of %q dropped (NaN, Inf or beyond 2^360)", v, name))
					continue
				}
				vals = append(vals, cv)
			}
			m.values = vals
			if len(vals) == 0 {
				continue
			}
		}
		ms = append(ms, m)
	}
	d.metrics = ms
	// Properties must not shadow any target.
	ps := d.props[:0]
	for _, p := range d.props {
		// Keys become printable ASCII so two different keys can never
		// encode to the same JSON name (invalid UTF-8 all becomes U+FFFD).
		if k, changed := printable(p.key, maxNameLen); changed {
			e.rep.Report("metrics.emf.property", fmt.Errorf("metrics: property name %q sanitised to %q", truncForReport(p.key), k))
			p.key = k
		}
		if blank(p.key) || p.key == "_aws" || hasDim(d.dims, p.key) || hasMetric(d.metrics, p.key) || hasProp(ps, p.key) {
			e.rep.Report("metrics.emf.property", fmt.Errorf("metrics: property %q collides with _aws, a dimension, a metric or another property; dropped", truncForReport(p.key)))
			continue
		}
		ps = append(ps, p)
	}
	d.props = ps
}

func histOK(m *metricData) bool {
	if len(m.hv) == 0 || len(m.hv) != len(m.hc) {
		return false
	}
	for _, v := range [...]float64{m.min, m.max, m.sum} {
		if _, ok := cleanValue(v); !ok {
			return false
		}
	}
	if m.min > m.max {
		return false
	}
	prev := math.Inf(-1)
	for i, v := range m.hv {
		if _, ok := cleanValue(v); !ok || v <= prev || v < m.min || v > m.max {
			return false
		}
		if c, ok := cleanValue(m.hc[i]); !ok || c <= 0 {
			return false
		}
		prev = v
	}
	return true
}

// normalizeHist sorts (values, counts) by value, merges equal values, drops
// non-positive counts and non-finite values and clamps values to [lo, hi].
// It works in place and returns the shortened slices.
func normalizeHist(vals, counts []float64, lo, hi float64) ([]float64, []float64) {
	n := 0
	for i := range vals {
		v, ok := cleanValue(vals[i])
		c, okc := cleanValue(counts[i])
		if !ok || !okc || c <= 0 {
			continue
		}
		vals[n], counts[n] = min(max(v, lo), hi), c
		n++
	}
	vals, counts = vals[:n], counts[:n]
	if !sort.Float64sAreSorted(vals) {
		sort.Sort(pairSorter{vals, counts})
	}
	out := 0
	for i := range vals {
		if out > 0 && vals[out-1] == vals[i] {
			counts[out-1] += counts[i]
			continue
		}
		vals[out], counts[out] = vals[i], counts[i]
		out++
	}
	return vals[:out], counts[:out]
}

type pairSorter struct{ v, c []float64 }

func (p pairSorter) Len() int           { return len(p.v) }
func (p pairSorter) Less(i, j int) bool { return p.v[i] < p.v[j] }
func (p pairSorter) Swap(i, j int) {
	p.v[i], p.v[j] = p.v[j], p.v[i]
	p.c[i], p.c[j] = p.c[j], p.c[i]
}

// cleanSet reports whether set has at most 30 distinct keys, each naming a
// dimension of dims.
func cleanSet(set []string, dims []field) bool {
	if len(set) > maxDimKeys {
		return false
	}
	for i, k := range set {
		if !hasDim(dims, k) || containsStr(set[:i], k) {
			return false
		}
	}
	return true
}

func hasDim(fs []field, k string) bool {
	for _, f := range fs {
		if f.key == k {
			return true
		}
	}
	return false
}

func hasMetric(ms []metricData, name string) bool {
	for i := range ms {
		if ms[i].name == name {
			return true
		}
	}
	return false
}

func hasProp(ps []prop, k string) bool {
	for _, p := range ps {
		if p.key == k {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !containsStr(b, k) {
			return false
		}
	}
	return true
}

func truncForReport(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}
