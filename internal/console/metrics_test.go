package console

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

const emfLatency = `{"_aws":{"Timestamp":1700000005000,"CloudWatchMetrics":[{"Namespace":"o11y-demo","Dimensions":[["Service","Operation"],["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Error","Unit":"Count"},{"Name":"Fault","Unit":"Count"}]}]},"Service":"orders","Operation":"GET /orders/{id}","Latency":{"Values":[1,2,30],"Counts":[5,4,1],"Max":30,"Min":1,"Count":10,"Sum":43},"Error":{"Values":[0,1],"Counts":[9,1]},"Fault":{"Values":[0,1],"Counts":[8,2]},"slowest_xray_trace_id":"1-67000000-000000000000000000000001","fault_xray_trace_id":"1-67000000-000000000000000000000002"}`

const emfCustom = `{"_aws":{"Timestamp":1700000006000,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["Service"]],"Metrics":[{"Name":"CartSize","Unit":"Count"}]}]},"Service":"orders","CartSize":[3,5],"xray_trace_id":"1-67000000-000000000000000000000001"}`

func TestMetricsGolden(t *testing.T) {
	c := newTestConsole(t, 0)
	for _, l := range []string{emfLatency, emfCustom} {
		if err := c.IngestEMF([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "metrics.golden.json", mustJSON(t, c.store.metrics.query(time.Hour, 10*time.Second)))
}

func TestMetricsWindow(t *testing.T) {
	c := newTestConsole(t, 0)
	old := strings.Replace(emfLatency, "1700000005000", "1699990000000", 1) // 10005 s before testNow
	if err := c.IngestEMF([]byte(old)); err != nil {
		t.Fatal(err)
	}
	if got := c.store.metrics.query(time.Hour, 10*time.Second); len(got) != 0 {
		t.Errorf("a point older than an hour was kept: %v", got)
	}
}

func TestEMFMalformedCounted(t *testing.T) {
	c := newTestConsole(t, 0)
	bad := []string{
		`not json`,
		`{"_aws":1}`,
		`{"no":"aws"}`,
		`{"_aws":{"CloudWatchMetrics":[]}}`,
		`{"_aws":{"Timestamp":"x","CloudWatchMetrics":[{"Namespace":"a","Dimensions":[],"Metrics":[]}]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}`,
		`{"_aws":{"Timestamp":1700000005000,"CloudWatchMetrics":[{"Namespace":"a","Dimensions":[["Service"]],"Metrics":[{"Name":"M"}]}]},"M":1}`,
	}
	for _, b := range bad {
		if err := c.IngestEMF([]byte(b)); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
	if got := c.Stats()["bad_emf"]; got != uint64(len(bad)) {
		t.Errorf("bad_emf = %d, want %d", got, len(bad))
	}
}

func TestStdoutLines(t *testing.T) {
	c := newTestConsole(t, 0)
	in := emfLatency + "\n" + `{"msg":"hello","xray_trace_id":"1-67000000-000000000000000000000001"}` + "\nplain text\n{broken\n" + strings.Repeat("x", 100<<10) + "\n"
	var pass bytes.Buffer
	if err := c.ReadLines(strings.NewReader(in), &pass); err != nil {
		t.Fatal(err)
	}
	if pass.String() != in {
		t.Error("lines were not passed through unchanged")
	}
	st := c.Stats()
	if st["emf_documents"] != 1 || st["log_lines"] != 1 || st["other_lines"] != 1 || st["bad_lines"] != 2 {
		t.Errorf("stats %v", st)
	}
}

func FuzzEMF(f *testing.F) {
	f.Add([]byte(emfLatency))
	f.Add([]byte(emfCustom))
	if b, err := os.ReadFile("testdata/logs.jsonl"); err == nil {
		f.Add(b)
	}
	c := newTestConsole(f, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = c.IngestEMF(b)
		c.IngestLine(b)
		_ = c.store.metrics.query(time.Hour, time.Second)
	})
}
