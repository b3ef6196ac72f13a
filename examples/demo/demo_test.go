package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
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
	for _, s := range []string{"gateway", "orders", "inventory"} {
		if st.ByService[s] == 0 {
			t.Errorf("no segments from %s (have %v)", s, st.ByService)
		}
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
