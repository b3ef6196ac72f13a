package main

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/o11y-go/o11y/examples/internal/segsink"
)

// traceView prints what the stand-in daemon receives: every segment with
// -v, and example trace trees plus a summary at the end.
type traceView struct {
	w       io.Writer
	verbose bool
	mu      sync.Mutex
}

func newTraceView(w io.Writer, verbose bool) *traceView {
	return &traceView{w: w, verbose: verbose}
}

func (v *traceView) add(s segsink.Segment) {
	if !v.verbose {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	kind := "segment   "
	if s.IsSubsegment() {
		kind = "subsegment"
	}
	fmt.Fprintf(v.w, "  daemon ← %s %s %-10s %s%s\n", kind, s.TraceID, s.Name, describe(&s), flags(&s))
}

// describe is the one-line detail of a document: method and path or
// status, duration, annotations.
func describe(s *segsink.Segment) string {
	var b strings.Builder
	if s.HTTP.Method != "" || s.HTTP.URL != "" {
		path := s.HTTP.URL
		if u, err := url.Parse(s.HTTP.URL); err == nil && u.Path != "" {
			path = u.Path
		}
		fmt.Fprintf(&b, " %s %s", s.HTTP.Method, path)
		if s.HTTP.Status != 0 {
			fmt.Fprintf(&b, " → %d", s.HTTP.Status)
		}
	}
	if s.Namespace != "" {
		fmt.Fprintf(&b, " (%s)", s.Namespace)
	}
	fmt.Fprintf(&b, "  %s", fmtDur(s.Duration()))
	if len(s.Annotations) > 0 {
		keys := make([]string, 0, len(s.Annotations))
		for k := range s.Annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("  annotations:")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, s.Annotations[k])
		}
	}
	return b.String()
}

func flags(s *segsink.Segment) string {
	var f []string
	if s.Fault {
		f = append(f, "FAULT")
	}
	if s.Error {
		f = append(f, "error")
	}
	if s.Throttle {
		f = append(f, "throttle")
	}
	if len(f) == 0 {
		return ""
	}
	return "  [" + strings.Join(f, ",") + "]"
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(time.Millisecond).String()
	}
}

// tree prints one trace as an indented tree of its documents.
func tree(w io.Writer, segs []segsink.Segment) {
	ids := map[string]bool{}
	for _, s := range segs {
		ids[s.ID] = true
	}
	children := map[string][]segsink.Segment{}
	var roots []segsink.Segment
	for _, s := range segs {
		if s.ParentID == "" || !ids[s.ParentID] {
			roots = append(roots, s)
			continue
		}
		children[s.ParentID] = append(children[s.ParentID], s)
	}
	byStart := func(l []segsink.Segment) {
		sort.SliceStable(l, func(i, j int) bool { return l[i].StartTime < l[j].StartTime })
	}
	byStart(roots)
	var walk func(s segsink.Segment, prefix string, last bool, top bool)
	walk = func(s segsink.Segment, prefix string, last bool, top bool) {
		branch, next := "├─ ", "│  "
		if last {
			branch, next = "└─ ", "   "
		}
		if top {
			branch, next = "", ""
		}
		kind := ""
		if !s.IsSubsegment() {
			kind = "▶ "
		}
		fmt.Fprintf(w, "    %s%s%s%s%s\n", prefix, branch, kind, s.Name, describe(&s)+flags(&s))
		kids := children[s.ID]
		byStart(kids)
		for i, c := range kids {
			walk(c, prefix+next, i == len(kids)-1, false)
		}
	}
	for _, r := range roots {
		walk(r, "", true, true)
	}
}

// summary prints example trees and the totals, and returns the example
// trace id.
func (v *traceView) summary(segs []segsink.Segment, st Stats, elapsed time.Duration, namespace, daemonAddr string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := v.w
	byTrace := segsink.ByTrace(segs)

	// One example per outcome: a full checkout, a client error, a fault.
	type example struct {
		title string
		match func(root *segsink.Segment, all []segsink.Segment) bool
		id    string
	}
	examples := []*example{
		{title: "a checkout: gateway → orders → charge-card + gRPC inventory + SQS → fulfilment worker", match: func(r *segsink.Segment, all []segsink.Segment) bool {
			return strings.HasSuffix(r.HTTP.URL, "/api/checkout") && !r.Fault && !r.Error && len(all) >= 6
		}},
		{title: "a client error (404 for an order id that is not a number)", match: func(r *segsink.Segment, _ []segsink.Segment) bool {
			return r.Error && r.HTTP.Status == 404
		}},
		{title: "a fault (the orders handler panicked; the middleware answered 500)", match: func(r *segsink.Segment, all []segsink.Segment) bool {
			return r.Fault && strings.HasSuffix(r.HTTP.URL, "/api/boom")
		}},
	}
	ids := make([]string, 0, len(byTrace))
	first := map[string]float64{}
	for id, l := range byTrace {
		ids = append(ids, id)
		first[id] = l[0].StartTime
	}
	sort.Slice(ids, func(i, j int) bool { return first[ids[i]] < first[ids[j]] })
	for _, id := range ids {
		all := byTrace[id]
		var root *segsink.Segment
		for i := range all {
			if all[i].ParentID == "" && !all[i].IsSubsegment() {
				root = &all[i]
			}
		}
		if root == nil {
			continue
		}
		for _, ex := range examples {
			if ex.id == "" && ex.match(root, all) {
				ex.id = id
				break
			}
		}
	}
	fmt.Fprintf(w, "\n── example traces (as the X-Ray console would group them; ▶ = segment, others are subsegments) ──\n")
	for _, ex := range examples {
		if ex.id == "" {
			continue
		}
		fmt.Fprintf(w, "\n  %s\n  trace %s\n", ex.title, ex.id)
		tree(w, byTrace[ex.id])
	}

	codes := make([]int, 0, len(st.Statuses))
	for c := range st.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var cs []string
	for _, c := range codes {
		label := fmt.Sprint(c)
		if c == 0 {
			label = "no answer"
		}
		cs = append(cs, fmt.Sprintf("%s×%d", label, st.Statuses[c]))
	}
	svcs := make([]string, 0, len(st.ByService))
	for name, n := range st.ByService {
		svcs = append(svcs, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(svcs)

	fmt.Fprintf(w, "\n── summary ──\n")
	fmt.Fprintf(w, "  traffic   %d requests in %s (gateway answered %s)\n", st.Requests, elapsed.Round(100*time.Millisecond), strings.Join(cs, ", "))
	fmt.Fprintf(w, "  traces    %d traces, %d documents at the daemon %s (segments per service: %s)\n", st.Traces, st.Segments, daemonAddr, strings.Join(svcs, ", "))
	fmt.Fprintf(w, "  logs      %d JSON log lines on stdout (one access line per request per service, plus application logs)\n", st.LogLines)
	fmt.Fprintf(w, "  metrics   %d EMF documents on stdout: namespace %q, metrics Latency/Error/Fault, dimensions [Service, Operation] and [Service]\n", st.EMFDocs, namespace)
	exampleID := examples[0].id
	if exampleID == "" {
		for _, ex := range examples {
			if ex.id != "" {
				exampleID = ex.id
				break
			}
		}
	}
	if exampleID != "" {
		fmt.Fprintf(w, "  follow    trace %s: its log lines carry \"xray_trace_id\":%q,\n", exampleID, exampleID)
		fmt.Fprintf(w, "            EMF documents name slow and faulting requests in slowest_xray_trace_id / fault_xray_trace_id.\n")
		fmt.Fprintf(w, "            With stdout saved (go run ./examples/demo > demo.jsonl):  grep %s demo.jsonl\n", exampleID)
	}
	fmt.Fprintf(w, "  on AWS    the same JSON lines become CloudWatch Logs events and metrics, the segments an X-Ray trace map:\n")
	fmt.Fprintf(w, "            see examples/ecs and examples/apprunner.\n\n")
	return exampleID
}
