package console

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestServiceMapGolden(t *testing.T) {
	c := newTestConsole(t, 0)
	loadTestdata(t, c)
	golden(t, "map.golden.json", mustJSON(t, c.store.ServiceMap(0)))
}

func TestServiceMapWindow(t *testing.T) {
	c := newTestConsole(t, 0)
	loadTestdata(t, c)
	// testNow is 10 s after the first trace; the last one ended ~7 s before.
	if m := c.store.ServiceMap(5_000_000_000); m.Traces != 0 || len(m.Nodes) != 0 {
		t.Errorf("5 s window: %d traces, %d nodes, want none", m.Traces, len(m.Nodes))
	}
	if m := c.store.ServiceMap(9_000_000_000); m.Traces != 3 {
		t.Errorf("9 s window: %d traces, want 3", m.Traces)
	}
}

func TestTraceDetail(t *testing.T) {
	c := newTestConsole(t, 0)
	loadTestdata(t, c)
	d, ok := c.store.Trace("1-67000000-000000000000000000000001")
	if !ok {
		t.Fatal("trace not found")
	}
	if len(d.Segments) != 4 {
		t.Errorf("%d documents, want 4", len(d.Segments))
	}
	var msgs []string
	for _, l := range d.Logs {
		var m struct{ Msg string }
		_ = json.Unmarshal(l, &m)
		msgs = append(msgs, m.Msg)
	}
	if got := strings.Join(msgs, ","); got != "checkout started,stock reserved" {
		t.Errorf("logs %q, want time order", got)
	}
	if _, ok := c.store.Trace("1-00000000-000000000000000000000000"); ok {
		t.Error("unknown trace found")
	}
}

func TestLogsBeforeSegments(t *testing.T) {
	c := newTestConsole(t, 0)
	c.IngestLine([]byte(`{"msg":"early","xray_trace_id":"1-67000000-00000000000000000000000a"}`))
	if err := c.IngestSegment([]byte(`{"name":"svc","id":"0000000000000001","trace_id":"1-67000000-00000000000000000000000a","start_time":1700000000,"end_time":1700000001}`)); err != nil {
		t.Fatal(err)
	}
	d, _ := c.store.Trace("1-67000000-00000000000000000000000a")
	if len(d.Logs) != 1 {
		t.Errorf("%d logs, want the early one", len(d.Logs))
	}
}

func TestEvictionKeepsLastN(t *testing.T) {
	c := newTestConsole(t, 5)
	for i := 0; i < 12; i++ {
		doc := fmt.Sprintf(`{"name":"svc","id":"%016x","trace_id":"1-67000000-%024x","start_time":%d,"end_time":%d}`, i+1, i, 1700000000+i, 1700000000+i)
		if err := c.IngestSegment([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		c.IngestLine([]byte(fmt.Sprintf(`{"msg":"x","xray_trace_id":"1-67000000-%024x"}`, i)))
	}
	if n := c.store.Len(); n != 5 {
		t.Fatalf("%d traces stored, want 5", n)
	}
	if _, ok := c.store.Trace(fmt.Sprintf("1-67000000-%024x", 6)); ok {
		t.Error("trace 6 should be evicted")
	}
	if d, ok := c.store.Trace(fmt.Sprintf("1-67000000-%024x", 11)); !ok || len(d.Logs) != 1 {
		t.Errorf("newest trace missing or without its log: %v %v", ok, d.Logs)
	}
	if got := c.Stats()["evicted_traces"]; got != 7 {
		t.Errorf("evicted %d, want 7", got)
	}
}

func TestInProgressReplaced(t *testing.T) {
	c := newTestConsole(t, 0)
	_ = c.IngestSegment([]byte(`{"name":"svc","id":"0000000000000001","trace_id":"1-67000000-00000000000000000000000b","start_time":1700000000,"in_progress":true}`))
	_ = c.IngestSegment([]byte(`{"name":"svc","id":"0000000000000001","trace_id":"1-67000000-00000000000000000000000b","start_time":1700000000,"end_time":1700000002}`))
	d, _ := c.store.Trace("1-67000000-00000000000000000000000b")
	if len(d.Segments) != 1 || !strings.Contains(string(d.Segments[0]), "end_time") {
		t.Errorf("documents %s, want only the complete one", d.Segments)
	}
}

func TestMalformedSegmentsCounted(t *testing.T) {
	c := newTestConsole(t, 0)
	bad := []string{
		"",
		"no newline",
		"{\"format\":\"xml\",\"version\":1}\n{}",
		"{\"format\":\"json\",\"version\":2}\n{}",
		"{\"format\":\"json\",\"version\":1}\n",
		"{\"format\":\"json\",\"version\":1}\n{",
		"{\"format\":\"json\",\"version\":1}\n[]",
		"{\"format\":\"json\",\"version\":1}\n{\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":1}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"trace_id\":\"t\",\"start_time\":1}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"id\":\"1\",\"start_time\":1}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"id\":\"1\",\"trace_id\":\"t\"}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":\"x\"}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":1,\"fault\":\"yes\"}",
		"{\"format\":\"json\",\"version\":1}\n{\"name\":\"a\",\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":1,\"subsegments\":" + strings.Repeat(`[{"name":"a","id":"2","subsegments":`, 40) + "[]" + strings.Repeat("}]", 40) + "}",
	}
	for _, b := range bad {
		if err := c.IngestDatagram([]byte(b)); err == nil {
			t.Errorf("accepted %q", b)
		}
	}
	if got := c.Stats()["bad_segments"]; got != uint64(len(bad)) {
		t.Errorf("bad_segments = %d, want %d", got, len(bad))
	}
	if c.store.Len() != 0 {
		t.Errorf("stored %d traces from malformed input", c.store.Len())
	}
}

func FuzzDatagram(f *testing.F) {
	f.Add([]byte("{\"format\": \"json\", \"version\": 1}\n{\"name\":\"a\",\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":1,\"subsegments\":[{\"name\":\"b\",\"id\":\"2\",\"namespace\":\"aws\"}]}"))
	f.Add([]byte("{\"format\":\"json\",\"version\":1}\n{\"name\":\"<img src=x>\",\"id\":\"1\",\"trace_id\":\"t\",\"start_time\":1,\"parent_id\":\"1\"}"))
	f.Add([]byte("{}\n{}"))
	c := newTestConsole(f, 50)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = c.IngestDatagram(b)
		_ = c.store.ServiceMap(0)
		_ = c.store.Traces(nil, 0, 10)
	})
}

// TestServiceMapSQSHandOff: a worker segment whose parent is the producer's
// SQS SendMessage subsegment (awsmw.StartConsumer) is drawn producer → the
// queue's AWS node → worker, as X-Ray does; the call counts once.
func TestServiceMapSQSHandOff(t *testing.T) {
	c := newTestConsole(t, 0)
	const tr = "1-67000000-0000000000000000000000b1"
	docs := []string{
		`{"name":"orders","id":"00000000000000a1","trace_id":"` + tr + `","start_time":1700000000,"end_time":1700000001,` +
			`"subsegments":[{"name":"SQS","id":"00000000000000a2","namespace":"aws","start_time":1700000000.1,"end_time":1700000000.2,"aws":{"operation":"SendMessage","queue_url":"http://127.0.0.1/1/orders"}}]}`,
		`{"name":"fulfilment","id":"00000000000000a3","parent_id":"00000000000000a2","trace_id":"` + tr + `","start_time":1700000000.3,"end_time":1700000000.4}`,
	}
	for _, d := range docs {
		if err := c.IngestSegment([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	m := c.store.ServiceMap(0)
	names := map[string]string{}
	for _, n := range m.Nodes {
		names[n.ID] = n.Name
	}
	edges := map[string]int{}
	for _, e := range m.Edges {
		edges[names[e.From]+" → "+names[e.To]]++
	}
	for _, want := range []string{"orders → SQS", "SQS → fulfilment"} {
		if edges[want] != 1 {
			t.Errorf("edge %s: %d, want 1 (edges %v)", want, edges[want], edges)
		}
	}
	if edges["orders → fulfilment"] != 0 {
		t.Errorf("direct edge orders → fulfilment: the queue must sit between them (edges %v)", edges)
	}
}
