package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o11y-go/o11y/examples/internal/e2e"
	"github.com/o11y-go/o11y/examples/internal/segsink"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
)

// checkOutput asserts on what a demo run wrote: JSON-only stdout with valid
// EMF documents and log lines from all three services, and the human view.
func checkOutput(t *testing.T, stdout, stderr []byte) {
	t.Helper()
	out := e2e.ParseStdout(t, stdout) // every line JSON, every EMF document valid
	if len(out.EMF) == 0 {
		t.Errorf("no EMF documents on stdout")
	}
	services := map[string]int{}
	for _, l := range out.Logs {
		if s, _ := l["service"].(string); s != "" {
			services[s]++
		}
		if l["msg"] == "access" {
			if id, _ := l["xray_trace_id"].(string); !xrayvalidate.IsTraceID(id) {
				t.Errorf("access line without a valid xray_trace_id: %v", l)
			}
		}
	}
	for _, s := range []string{"gateway", "orders", "inventory"} {
		if services[s] == 0 {
			t.Errorf("no log lines from %s (have %v)", s, services)
		}
	}
	emfServices := map[any]bool{}
	for _, d := range out.EMF {
		emfServices[d.Members["Service"]] = true
	}
	for _, s := range []string{"gateway", "orders", "inventory"} {
		if !emfServices[s] {
			t.Errorf("no EMF documents for %s", s)
		}
	}
	for _, want := range []string{"o11y demo", "── summary ──", "EMF documents", "JSON log lines"} {
		if !bytes.Contains(stderr, []byte(want)) {
			t.Errorf("human output lacks %q", want)
		}
	}
}

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	st, err := Run(context.Background(), Options{Duration: 2 * time.Second, RPS: 20, FailPercent: 10, Namespace: "o11y-demo-test"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.Bytes())
	}
	checkOutput(t, stdout.Bytes(), stderr.Bytes())
	if st.Requests < 10 {
		t.Errorf("only %d requests in 2s at 20/s", st.Requests)
	}
	if st.BadLines != 0 {
		t.Errorf("%d non-JSON lines", st.BadLines)
	}
	if st.Segments == 0 || st.Traces == 0 {
		t.Errorf("no segments reached the stand-in daemon (%d segments, %d traces)", st.Segments, st.Traces)
	}
	for _, s := range []string{"gateway", "orders", "inventory", "fulfilment"} {
		if st.ByService[s] == 0 {
			t.Errorf("no segments from %s (have %v)", s, st.ByService)
		}
	}
	if st.Fulfilled == 0 {
		t.Errorf("the fulfilment worker handled no order")
	}
	// The request id survives every hop (HTTP → HTTP → gRPC): all lines of
	// one trace, whichever service wrote them, carry one request_id.
	ids := map[any]map[any]bool{}
	for _, line := range bytes.Split(stdout.Bytes(), []byte("\n")) {
		var l map[string]any
		if json.Unmarshal(line, &l) != nil || l["xray_trace_id"] == nil || l["request_id"] == nil {
			continue
		}
		if ids[l["xray_trace_id"]] == nil {
			ids[l["xray_trace_id"]] = map[any]bool{}
		}
		ids[l["xray_trace_id"]][l["request_id"]] = true
	}
	for trace, set := range ids {
		if len(set) != 1 {
			t.Errorf("trace %v: %d request ids %v", trace, len(set), set)
		}
	}
	if len(ids) == 0 {
		t.Errorf("no log line with a trace and a request id")
	}
	if st.Example == "" {
		t.Errorf("no example trace in the summary")
	} else if !bytes.Contains(stdout.Bytes(), []byte(st.Example)) {
		t.Errorf("example trace %s appears in no stdout line", st.Example)
	}
	if !strings.Contains(stderr.String(), "── example traces") || !strings.Contains(stderr.String(), "charge-card") {
		t.Errorf("no example trace tree with the charge-card subsegment:\n%s", stderr.String())
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr.Bytes())
	}
}

func TestRequestBudget(t *testing.T) {
	var stdout, stderr bytes.Buffer
	st, err := Run(context.Background(), Options{Duration: 10 * time.Second, Requests: 5, RPS: 50, Namespace: "o11y-demo-test"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range st.Statuses {
		n += c
	}
	if st.Requests != 5 || n != 5 {
		t.Errorf("sent %d, answered %d, want 5", st.Requests, n)
	}
}

func TestTree(t *testing.T) {
	const tr = "1-5759e988-bd862e3fe1be46a994272793"
	segs := []segsink.Segment{
		{Name: "orders", ID: "b", ParentID: "a", TraceID: tr, StartTime: 2, EndTime: 3},
		{Name: "gateway", ID: "a", TraceID: tr, StartTime: 1, EndTime: 4, Fault: true},
		{Name: "charge-card", ID: "c", ParentID: "b", TraceID: tr, Type: "subsegment", StartTime: 2.1, EndTime: 2.2, Annotations: map[string]any{"order_id": "7"}},
	}
	var b bytes.Buffer
	tree(&b, segs)
	want := "    ▶ gateway  3s  [FAULT]\n" +
		"    └─ ▶ orders  1s\n" +
		"       └─ charge-card  100.0ms  annotations: order_id=7\n"
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestMain_Process runs the demo the way the README says, as a process, and
// checks that it stops by itself with exit code 0.
func TestMainProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo binary")
	}
	bin := e2e.Build(t, ".")
	cmd := exec.Command(bin, "-duration", "2s", "-console", "127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exited with %v\n%s", err, stderr.Bytes())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("demo did not stop by itself")
	}
	checkOutput(t, stdout.Bytes(), stderr.Bytes())
}

func TestBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"-duration", "-1s"}, &out, &errb); code != 2 {
		t.Errorf("exit %d for -duration -1s, want 2", code)
	}
	if code := Main([]string{"-nope"}, &out, &errb); code != 2 {
		t.Errorf("exit %d for an unknown flag, want 2", code)
	}
}

// TestSQSLeg: the demo's orders service publishes "order placed" to the
// in-process fake SQS and the fulfilment worker consumes it; each worker
// segment continues a checkout's trace under the SQS SendMessage
// subsegment, its log lines carry that checkout's request id, and the
// console's map draws orders → SQS → fulfilment.
func TestSQSLeg(t *testing.T) {
	var stdout bytes.Buffer
	var stderr lockedBuffer // with the console, its announcement is written from another goroutine
	var cons *demoConsole
	o := Options{Duration: 2 * time.Second, RPS: 20, Namespace: "o11y-demo-test", Console: "127.0.0.1:0",
		consoleReady: func(c *demoConsole) { cons = c }}
	st, err := Run(context.Background(), o, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if st.Fulfilled == 0 {
		t.Fatalf("no order fulfilled (%+v)", st)
	}

	// Segments, as the console received them: for each worker segment, its
	// parent is an SQS SendMessage subsegment of the same trace.
	byID := map[string]map[string]any{}
	var workers []map[string]any
	var walk func(doc map[string]any, trace string)
	walk = func(doc map[string]any, trace string) {
		doc["trace_id"] = trace
		byID[doc["id"].(string)] = doc
		subs, _ := doc["subsegments"].([]any)
		for _, s := range subs {
			walk(s.(map[string]any), trace)
		}
	}
	for _, tr := range cons.Store().Traces(nil, 0, 1000).Traces {
		d, _ := cons.Store().Trace(tr.ID)
		for _, raw := range d.Segments {
			var doc map[string]any
			if json.Unmarshal(raw, &doc) != nil {
				continue
			}
			walk(doc, tr.ID)
			if doc["name"] == "fulfilment" && doc["type"] == nil {
				workers = append(workers, doc)
			}
		}
	}
	if len(workers) == 0 {
		t.Fatal("no fulfilment segment reached the console")
	}
	for _, w := range workers {
		p := byID[fmt.Sprint(w["parent_id"])]
		aws, _ := p["aws"].(map[string]any)
		if p == nil || p["name"] != "SQS" || p["namespace"] != "aws" || aws["operation"] != "SendMessage" || p["trace_id"] != w["trace_id"] {
			t.Errorf("worker segment %v: parent %v, want the SQS SendMessage subsegment of the same trace", w["id"], p)
		}
	}

	// Logs: the worker's "order fulfilled" lines carry a checkout's trace
	// and request id (TestRun checks one request id per trace).
	n := 0
	for _, l := range e2e.ParseStdout(t, stdout.Bytes()).Logs {
		if l["msg"] == "order fulfilled" {
			n++
			if l["service"] != "fulfilment" || l["request_id"] == nil || l["xray_trace_id"] == nil {
				t.Errorf("worker log line %v", l)
			}
		}
	}
	if n == 0 {
		t.Error("no \"order fulfilled\" log line")
	}

	// The console's map: orders → SQS → fulfilment.
	m := cons.Store().ServiceMap(0)
	names := map[string]string{}
	for _, nd := range m.Nodes {
		names[nd.ID] = nd.Name
	}
	edges := map[string]bool{}
	for _, e := range m.Edges {
		edges[names[e.From]+" -> "+names[e.To]] = true
	}
	for _, want := range []string{"orders -> SQS", "SQS -> fulfilment"} {
		if !edges[want] {
			t.Errorf("map lacks %s (edges %v)", want, edges)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
