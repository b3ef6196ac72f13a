package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/o11y-go/o11y/tracing/xraysegment"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testNow is the fixed clock of the tests: shortly after the testdata traces.
var testNow = time.Unix(1700000010, 0)

func newTestConsole(t testing.TB, max int) *Console {
	t.Helper()
	c, err := New(Options{MaxTraces: max, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loadTestdata feeds testdata/segments.jsonl (as daemon datagrams) and
// testdata/logs.jsonl (as stdout lines) to c.
func loadTestdata(t testing.TB, c *Console) {
	t.Helper()
	f, err := os.Open("testdata/segments.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if err := c.IngestDatagram(append([]byte("{\"format\": \"json\", \"version\": 1}\n"), sc.Bytes()...)); err != nil {
			t.Fatalf("datagram %s: %v", sc.Bytes(), err)
		}
	}
	logs, err := os.ReadFile("testdata/logs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReadLines(bytes.NewReader(logs), nil); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func attrString(k, v string) attribute.KeyValue { return attribute.String(k, v) }

func newEncoderForTest(indexed []string) *xraysegment.Encoder {
	return xraysegment.NewEncoder(xraysegment.Config{IndexedAttributes: indexed})
}
