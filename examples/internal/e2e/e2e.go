// Package e2e is the end-to-end test of the orders service binary, shared
// by examples/ecs and examples/apprunner: it builds the example's main
// package, runs it as a child process against a stand-in X-Ray daemon (a
// UDP listener) and a downstream instrumented with aws-xray-sdk-go, drives
// every route, stops it with SIGTERM, and checks the segments, log lines and
// EMF documents it produced.
//
// It is test support code, not part of the SDK.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/o11y-go/o11y/internal/testproc"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"github.com/o11y-go/o11y/examples/internal/orders"
	"github.com/o11y-go/o11y/examples/internal/segsink"
	"github.com/o11y-go/o11y/internal/emfvalidate"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
)

// ServiceName is the OTEL_SERVICE_NAME the child runs with.
const ServiceName = "orders-e2e"

// Namespace is the AWS_EMF_NAMESPACE the child runs with.
const Namespace = "OrdersE2E"

// DownstreamName is the segment name of the aws-xray-sdk-go downstream.
const DownstreamName = "inventory-xraysdk"

// flagMainUsed is set by Main: builds may outlive a single test.
var flagMainUsed bool

var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// Main is TestMain for packages that use [Build]: it runs the tests and
// removes the binaries built for them.
//
//	func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
func Main(m *testing.M) int {
	flagMainUsed = true
	code := m.Run()
	builds.Lock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.Unlock()
	return code
}

// Build compiles the main package in dir (usually ".") once per test
// binary and returns the executable's path. Without [Main] as TestMain the
// binary is built into the test's temporary directory instead.
func Build(t testing.TB, dir string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[dir]; ok {
		return bin
	}
	outDir := t.TempDir()
	cache := false
	if builds.dir != "" || flagMainUsed {
		if builds.dir == "" {
			d, err := os.MkdirTemp("", "o11y-e2e-")
			if err != nil {
				t.Fatal(err)
			}
			builds.dir = d
		}
		outDir, cache = builds.dir, true
	}
	out := filepath.Join(outDir, fmt.Sprintf("bin%d", len(builds.bins)))
	cmd := exec.Command("go", "build", "-o", out, ".") // fails clearly without a go command
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	if cache {
		if builds.bins == nil {
			builds.bins = map[string]string{}
		}
		builds.bins[dir] = out
	}
	return out
}

// Process is a running orders service.
type Process struct {
	*testproc.Process // BaseURL, Signal, Wait
	stdout            *lockedBuffer
	stderr            *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) string { return testproc.FreePort(t) }

// Start runs bin with a clean environment (no OTEL_*/AWS_*/O11Y_* from the
// test's own environment) plus env, and waits until /healthz answers.
func Start(t testing.TB, bin string, env map[string]string) *Process {
	t.Helper()
	p := &Process{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	p.Process = testproc.Start(t, bin, env, orders.HealthPath, p.stdout, p.stderr)
	return p
}

// Probe runs the binary in -healthcheck mode against the process's port
// and returns its exit code.
func (p *Process) Probe(t testing.TB) int {
	t.Helper()
	cmd := exec.Command(p.Cmd.Path, "-healthcheck")
	cmd.Env = p.Cmd.Env
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("healthcheck: %v", err)
	}
	return cmd.ProcessState.ExitCode()
}

// Stdout and Stderr return what the process wrote so far.
func (p *Process) Stdout() []byte { return p.stdout.Bytes() }
func (p *Process) Stderr() []byte { return p.stderr.Bytes() }

// NewTraceID returns a fresh X-Ray trace id ("1-<epoch hex>-<24 hex>").
func NewTraceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("1-%08x-%s", time.Now().Unix(), hex.EncodeToString(b[:]))
}

// NewSpanID returns a fresh 16-hex span id.
func NewSpanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Downstream is an inventory service instrumented with aws-xray-sdk-go
// (xray.Handler), whose segments go to Sink. GET /inventory answers 200;
// order_id=fail answers 503; order_id=slow waits SlowDelay first and signals
// SlowStarted when the request arrives.
type Downstream struct {
	*httptest.Server
	Sink        *segsink.Sink
	SlowStarted chan struct{}
	SlowDelay   time.Duration
}

var xrayConfigureOnce sync.Mutex

// NewDownstream starts the downstream. aws-xray-sdk-go has global
// configuration, so one test binary should run one downstream at a time.
func NewDownstream(t testing.TB) *Downstream {
	t.Helper()
	sink, err := segsink.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	xrayConfigureOnce.Lock()
	t.Cleanup(xrayConfigureOnce.Unlock)
	strategy, err := sampling.NewLocalizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	if err := xray.Configure(xray.Config{DaemonAddr: sink.Addr(), SamplingStrategy: strategy, ServiceVersion: "e2e"}); err != nil {
		t.Fatal(err)
	}
	d := &Downstream{Sink: sink, SlowStarted: make(chan struct{}, 1), SlowDelay: 1500 * time.Millisecond}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("order_id") {
		case "fail":
			http.Error(w, "out of stock service", http.StatusServiceUnavailable)
			return
		case "slow":
			select {
			case d.SlowStarted <- struct{}{}:
			default:
			}
			time.Sleep(d.SlowDelay)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"reserved":true}`)
	})
	mux := http.NewServeMux()
	mux.Handle("/inventory", xray.Handler(xray.NewFixedSegmentNamer(DownstreamName), h))
	d.Server = httptest.NewServer(mux)
	t.Cleanup(d.Server.Close)
	return d
}

// Lines splits out into lines, dropping a trailing empty one.
func Lines(out []byte) [][]byte {
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

// Output is the child's stdout, classified.
type Output struct {
	Logs []map[string]any
	EMF  []*emfvalidate.Doc
	// Raw EMF lines, in order.
	EMFLines [][]byte
}

// ParseStdout checks that every line is one JSON object, validates every
// EMF document, and splits logs from metrics.
func ParseStdout(t testing.TB, out []byte) Output {
	t.Helper()
	var o Output
	for i, line := range Lines(out) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("stdout line %d is not a JSON object: %v\n%s", i+1, err, line)
			continue
		}
		if _, ok := m["_aws"]; ok {
			doc, err := emfvalidate.Parse(line)
			if err != nil {
				t.Errorf("stdout line %d: invalid EMF: %v\n%s", i+1, err, line)
				continue
			}
			o.EMF = append(o.EMF, doc)
			o.EMFLines = append(o.EMFLines, line)
			continue
		}
		o.Logs = append(o.Logs, m)
	}
	return o
}

// RequestCounts sums the request count (the Latency distribution's Count,
// or the number of values) per Operation over every document whose
// directive has the dimension set [Service, Operation] for service.
func RequestCounts(t testing.TB, docs []*emfvalidate.Doc, namespace, service string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, d := range docs {
		if !HasDimensionSet(d, namespace, "Latency", "Service", "Operation") || d.Members["Service"] != service {
			continue
		}
		op, _ := d.Members["Operation"].(string)
		n, ok := d.SampleCount("Latency")
		if !ok {
			t.Errorf("Latency value %v has no sample count", d.Members["Latency"])
		}
		counts[op] += n
	}
	return counts
}

// MetricSum is the sum of a metric member's samples.
func MetricSum(t testing.TB, v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case []any:
		var s float64
		for _, e := range x {
			f, _ := e.(float64)
			s += f
		}
		return s
	case map[string]any:
		if s, ok := x["Sum"].(float64); ok {
			return s
		}
	}
	t.Errorf("metric value %v has no sum", v)
	return 0
}

// HasDimensionSet reports whether d has a directive in namespace whose
// metrics include metric and whose dimension sets include exactly dims.
func HasDimensionSet(d *emfvalidate.Doc, namespace, metric string, dims ...string) bool {
	for _, dir := range d.Directives {
		if dir.Namespace != namespace {
			continue
		}
		hasMetric := false
		for _, m := range dir.Metrics {
			if m.Name == metric {
				hasMetric = true
			}
		}
		if !hasMetric {
			continue
		}
		for _, set := range dir.Dimensions {
			if equalStrings(set, dims) {
				return true
			}
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Do sends one request and returns the response status, headers and body.
// It fails the test on transport errors (call it from the test goroutine).
func Do(t testing.TB, method, url string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	status, h, b, err := Send(method, url, hdr, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return status, h, b
}

// Send is Do without the test: safe from any goroutine.
func Send(method, url string, hdr map[string]string, body string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = []string{v} // raw: malformed values must go out as is
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// RootOf returns the Root= value of an X-Amzn-Trace-Id header.
func RootOf(h string) string {
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "Root") {
			return v
		}
	}
	return ""
}

// ValidateSegments runs xrayvalidate on every document the sink received.
func ValidateSegments(t testing.TB, name string, sink *segsink.Sink) {
	t.Helper()
	for _, err := range sink.Errors() {
		t.Errorf("%s: undecodable datagram: %v", name, err)
	}
	for _, b := range sink.Bodies() {
		if err := xrayvalidate.Validate(b); err != nil {
			t.Errorf("%s: invalid segment document: %v\n%s", name, err, b)
		}
	}
}
