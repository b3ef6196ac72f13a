package console

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Default bounds of the in-memory store.
const (
	DefaultMaxTraces     = 10000
	maxDocsPerTrace      = 500
	maxLogsPerTrace      = 500
	maxPendingLogTraces  = 4096
	maxLogLineBytes      = 16 << 10
	defaultMetricsWindow = time.Hour
)

// trace is everything kept for one trace id.
type trace struct {
	id         string
	docs       []*doc
	logs       []logLine
	start, end float64
	flags      docFlags // union over every span
	rootIdx    [2]int   // doc, span of the root segment; -1 when none
	obs        []mapObs // what the trace adds to the service map
}

// root returns the entry segment: the segment without a parent, else the
// earliest segment, else nil.
func (t *trace) root() *span {
	if t.rootIdx[0] < 0 {
		return nil
	}
	return &t.docs[t.rootIdx[0]].spans[t.rootIdx[1]]
}

func (t *trace) recompute() {
	t.start, t.end, t.flags = 0, 0, 0
	t.rootIdx = [2]int{-1, -1}
	var best *span
	for di, d := range t.docs {
		for si := range d.spans {
			s := &d.spans[si]
			if t.start == 0 || s.start < t.start {
				t.start = s.start
			}
			if s.end > t.end {
				t.end = s.end
			}
			t.flags |= s.flags
			if !s.seg {
				continue
			}
			better := best == nil ||
				(s.parentID == "" && best.parentID != "") ||
				((s.parentID == "") == (best.parentID == "") && s.start < best.start)
			if better {
				best = s
				t.rootIdx = [2]int{di, si}
			}
		}
	}
}

// logLine is one JSON log line that carries an xray_trace_id.
type logLine struct {
	time float64 // epoch seconds; 0 when the line has none
	seq  uint64  // arrival order, for lines with equal times
	raw  json.RawMessage
}

// Stats are the console's counters.
type Stats struct {
	Segments        atomic.Uint64 // documents stored
	BadSegments     atomic.Uint64 // malformed datagrams/documents, dropped
	OTLPSpans       atomic.Uint64
	BadOTLP         atomic.Uint64
	EMFDocs         atomic.Uint64
	BadEMF          atomic.Uint64
	LogLines        atomic.Uint64
	OtherLines      atomic.Uint64 // non-JSON lines, passed through only
	BadLines        atomic.Uint64 // JSON-looking lines that do not parse
	EvictedTraces   atomic.Uint64
	DroppedDocs     atomic.Uint64 // documents past maxDocsPerTrace
	DroppedLogs     atomic.Uint64
	SamplingRequest atomic.Uint64
}

func (s *Stats) snapshot() map[string]uint64 {
	return map[string]uint64{
		"segments": s.Segments.Load(), "bad_segments": s.BadSegments.Load(),
		"otlp_spans": s.OTLPSpans.Load(), "bad_otlp": s.BadOTLP.Load(),
		"emf_documents": s.EMFDocs.Load(), "bad_emf": s.BadEMF.Load(),
		"log_lines": s.LogLines.Load(), "other_lines": s.OtherLines.Load(), "bad_lines": s.BadLines.Load(),
		"evicted_traces": s.EvictedTraces.Load(), "dropped_documents": s.DroppedDocs.Load(),
		"dropped_logs": s.DroppedLogs.Load(), "sampling_requests": s.SamplingRequest.Load(),
	}
}

// Store holds the last MaxTraces traces with their logs, and the metrics of
// the last hour. It is safe for concurrent use.
type Store struct {
	max   int
	stats *Stats
	now   func() time.Time

	mu      sync.RWMutex
	traces  map[string]*trace
	ring    []*trace // insertion order; ring[head] is the oldest when full
	head    int
	logSeq  uint64
	pending map[string][]logLine // logs of traces not (yet) seen
	pendQ   []string

	metrics *metricStore
}

func newStore(max int, stats *Stats, now func() time.Time) *Store {
	if max <= 0 {
		max = DefaultMaxTraces
	}
	return &Store{
		max: max, stats: stats, now: now,
		traces:  make(map[string]*trace, max),
		ring:    make([]*trace, 0, max),
		pending: map[string][]logLine{},
		metrics: newMetricStore(defaultMetricsWindow, now),
	}
}

// addDoc stores one parsed document.
func (s *Store) addDoc(traceID string, d *doc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.traces[traceID]
	if t == nil {
		t = s.newTrace(traceID)
	}
	replaced := false
	for i, old := range t.docs {
		if old.id == d.id { // a complete document replaces its in-progress one
			t.docs[i] = d
			replaced = true
			break
		}
	}
	if !replaced {
		if len(t.docs) >= maxDocsPerTrace {
			s.stats.DroppedDocs.Add(1)
			return
		}
		t.docs = append(t.docs, d)
	}
	t.recompute()
	t.mapContrib()
	s.stats.Segments.Add(1)
}

// newTrace creates a trace, evicting the oldest when full. Callers hold mu.
func (s *Store) newTrace(id string) *trace {
	t := &trace{id: id, rootIdx: [2]int{-1, -1}}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, t)
	} else {
		old := s.ring[s.head]
		delete(s.traces, old.id)
		s.ring[s.head] = t
		s.head = (s.head + 1) % s.max
		s.stats.EvictedTraces.Add(1)
	}
	s.traces[id] = t
	if logs, ok := s.pending[id]; ok {
		t.logs = logs
		delete(s.pending, id)
	}
	return t
}

// addLog stores a log line of trace id. Logs of traces not seen yet wait
// in a bounded pending set (logs are often written before the segment is
// sent).
func (s *Store) addLog(id string, tm float64, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logSeq++
	l := logLine{time: tm, seq: s.logSeq, raw: append(json.RawMessage(nil), raw...)}
	if t := s.traces[id]; t != nil {
		if len(t.logs) >= maxLogsPerTrace {
			s.stats.DroppedLogs.Add(1)
			return
		}
		t.logs = append(t.logs, l)
		return
	}
	p, ok := s.pending[id]
	if !ok {
		if len(s.pendQ) >= maxPendingLogTraces {
			old := s.pendQ[0]
			s.pendQ = s.pendQ[1:]
			if n := len(s.pending[old]); n > 0 {
				s.stats.DroppedLogs.Add(uint64(n))
			}
			delete(s.pending, old)
		}
		s.pendQ = append(s.pendQ, id)
	}
	if len(p) >= maxLogsPerTrace {
		s.stats.DroppedLogs.Add(1)
		return
	}
	s.pending[id] = append(p, l)
}

// TraceSummary is one row of the trace list.
type TraceSummary struct {
	ID           string   `json:"id"`
	Start        float64  `json:"start"`
	Duration     float64  `json:"duration"`
	ResponseTime float64  `json:"response_time"`
	Name         string   `json:"name"`
	Method       string   `json:"method,omitempty"`
	URL          string   `json:"url,omitempty"`
	Status       int      `json:"status,omitempty"`
	Fault        bool     `json:"fault,omitempty"`
	Error        bool     `json:"error,omitempty"`
	Throttle     bool     `json:"throttle,omitempty"`
	Services     []string `json:"services"`
	Segments     int      `json:"segments"`
	Logs         int      `json:"logs"`
}

func summarize(t *trace) TraceSummary {
	ts := TraceSummary{ID: t.id, Start: t.start, Duration: roundUS(t.end - t.start),
		Fault: t.flags&fFault != 0, Error: t.flags&fError != 0, Throttle: t.flags&fThrottle != 0, Logs: len(t.logs)}
	if r := t.root(); r != nil {
		ts.Name, ts.Method, ts.URL, ts.Status, ts.ResponseTime = r.name, r.method, r.url, r.status, roundUS(r.duration())
	}
	seen := map[string]bool{}
	for _, d := range t.docs {
		for i := range d.spans {
			sp := &d.spans[i]
			ts.Segments++
			if sp.seg && !seen[sp.name] {
				seen[sp.name] = true
				ts.Services = append(ts.Services, sp.name)
			}
		}
	}
	sort.Strings(ts.Services)
	return ts
}

// TraceList is the answer of a trace query.
type TraceList struct {
	Traces  []TraceSummary `json:"traces"`
	Matched int            `json:"matched"`
	Stored  int            `json:"stored"`
}

// Traces returns up to limit traces that started in the window ending now
// (window 0: all) and match f, newest first.
func (s *Store) Traces(f *Filter, window time.Duration, limit int) TraceList {
	if limit <= 0 {
		limit = 100
	}
	from := 0.0
	if window > 0 {
		from = float64(s.now().Add(-window).UnixNano()) / 1e9
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := TraceList{Stored: len(s.traces)}
	var match []*trace
	for _, t := range s.ring {
		if t.rootIdx[0] < 0 || t.end < from {
			continue
		}
		if f.Match(t) {
			match = append(match, t)
		}
	}
	out.Matched = len(match)
	sort.Slice(match, func(i, j int) bool { return match[i].start > match[j].start })
	if len(match) > limit {
		match = match[:limit]
	}
	out.Traces = make([]TraceSummary, len(match))
	for i, t := range match {
		out.Traces[i] = summarize(t)
	}
	return out
}

// TraceDetail is one trace with its documents and log lines.
type TraceDetail struct {
	ID       string            `json:"id"`
	Segments []json.RawMessage `json:"segments"`
	Logs     []json.RawMessage `json:"logs"`
}

// Trace returns the documents and log lines (time order) of trace id.
func (s *Store) Trace(id string) (TraceDetail, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.traces[id]
	if t == nil {
		return TraceDetail{}, false
	}
	out := TraceDetail{ID: id, Segments: make([]json.RawMessage, len(t.docs)), Logs: make([]json.RawMessage, 0, len(t.logs))}
	for i, d := range t.docs {
		out.Segments[i] = d.raw
	}
	logs := append([]logLine(nil), t.logs...)
	sort.SliceStable(logs, func(i, j int) bool {
		if logs[i].time != logs[j].time {
			return logs[i].time < logs[j].time
		}
		return logs[i].seq < logs[j].seq
	})
	for _, l := range logs {
		out.Logs = append(out.Logs, l.raw)
	}
	return out, true
}

// Len returns the number of stored traces.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.traces)
}
