package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/emfvalidate"
	"github.com/o11y-go/o11y/internal/udpsink"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
)

var soak = flag.Bool("soak", false, "run the long overload and load tests (10 s at 50,000 spans/s)")

// otelErrors counts what reaches the OpenTelemetry global error handler
// (OTLP export failures, tracing helper reports). Installed once for the
// whole package in TestMain.
var otelErrors counter

func TestMain(m *testing.M) {
	udpsink.RunChildIfAsked() // the stand-in daemon's child processes
	flag.Parse()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { otelErrors.add(err) }))
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// counter counts errors and keeps the first few.
type counter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (c *counter) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if len(c.first) < 8 {
		c.first = append(c.first, err.Error())
	}
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d calls; first: %q", c.n, c.first)
}

// lineBuf is a concurrency-safe buffer that checks the one-Write-per-line
// rule: every Write must be exactly one line ending in '\n'.
type lineBuf struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	badSize []int // lengths of Writes that were not exactly one line (or whole lines, batches)
	discard bool  // count, don't keep (long runs)
	batches bool  // a Write may hold several whole lines (batched output)
	writes  atomic.Int64
}

func (b *lineBuf) Write(p []byte) (int, error) {
	b.writes.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) == 0 || p[len(p)-1] != '\n' || !b.batches && bytes.IndexByte(p[:len(p)-1], '\n') >= 0 {
		b.badSize = append(b.badSize, len(p))
	}
	if !b.discard {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *lineBuf) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}

// outputs is what one run wrote to stdout, checked and classified.
type outputs struct {
	logs     []map[string]any
	logLines [][]byte
	emf      []*emfvalidate.Doc
	emfLines [][]byte
}

// checkLines validates every line of out: one JSON object under 16 KiB;
// EMF documents pass emfvalidate.
func checkLines(t testing.TB, out []byte) outputs {
	t.Helper()
	var o outputs
	for i, line := range bytes.Split(out, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		if len(line)+1 >= 16<<10 {
			t.Errorf("line %d is %d bytes (limit < 16 KiB): %.200s…", i+1, len(line)+1, line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("line %d is not one JSON object: %v: %.300s", i+1, err, line)
			continue
		}
		if emfvalidate.IsEMF(line) {
			d, err := emfvalidate.Parse(line)
			if err != nil {
				t.Errorf("line %d: invalid EMF: %v\n%.500s", i+1, err, line)
				continue
			}
			o.emf = append(o.emf, d)
			o.emfLines = append(o.emfLines, line)
			continue
		}
		o.logs = append(o.logs, m)
		o.logLines = append(o.logLines, line)
	}
	return o
}

// emfRequestCounts sums the Latency sample counts per Operation over the
// [Service, Operation] documents of service.
func emfRequestCounts(t testing.TB, docs []*emfvalidate.Doc, service string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, d := range docs {
		if s, _ := d.Members["Service"].(string); s != service {
			continue
		}
		op, ok := d.Members["Operation"].(string)
		if !ok {
			continue
		}
		if !hasMetric(d, "Latency") {
			continue
		}
		n, ok := d.SampleCount("Latency")
		if !ok {
			t.Errorf("Latency value %v has no sample count", d.Members["Latency"])
		}
		counts[op] += n
	}
	return counts
}

func hasMetric(d *emfvalidate.Doc, name string) bool {
	for _, dir := range d.Directives {
		for _, m := range dir.Metrics {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

// daemon is a stand-in X-Ray daemon that reads like the real one
// (internal/udpsink: kernel-default receive buffer, one reader goroutine, a
// hand-off per datagram), in this process or, for the load tests, in a
// child process of its own as the real daemon is. A stuck daemon never
// reads, so its receive buffer fills and the kernel drops the rest.
type daemon struct {
	sink  *udpsink.Sink  // in this process
	child *udpsink.Child // in a child process
	stuck *net.UDPConn   // never read
	mu    sync.Mutex
	grams [][]byte
}

func listenUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newDaemon starts a reading daemon in this process; keep=false only
// counts datagrams.
func newDaemon(t testing.TB, keep bool) *daemon {
	t.Helper()
	d := &daemon{}
	var handle func([]byte)
	if keep {
		handle = func(g []byte) {
			d.mu.Lock()
			d.grams = append(d.grams, g)
			d.mu.Unlock()
		}
	}
	s, err := udpsink.Listen(udpsink.Options{Handle: handle})
	if err != nil {
		t.Fatal(err)
	}
	d.sink = s
	t.Cleanup(func() { _ = s.Close() })
	return d
}

// newDaemonProcess starts a reading daemon in a child process (the test
// binary again; TestMain serves it). Load tests use it: a stand-in inside
// the test process competes with the load's goroutines for the Go
// scheduler, which starves its reader far more than a sidecar ever is.
func newDaemonProcess(t testing.TB, keep bool) *daemon {
	t.Helper()
	return &daemon{child: udpsink.StartChild(t, keep)}
}

// newStuckDaemon binds a socket and never reads it. The receive buffer is
// shrunk to the minimum on purpose: this daemon measures what a full
// buffer does to the sender, and a small one is full from the first few
// datagrams, so every test run sees that steady state.
func newStuckDaemon(t testing.TB) *daemon {
	t.Helper()
	d := &daemon{stuck: listenUDP(t)}
	_ = d.stuck.SetReadBuffer(1)
	t.Cleanup(func() { _ = d.stuck.Close() })
	return d
}

func (d *daemon) addr() string {
	switch {
	case d.sink != nil:
		return d.sink.Addr()
	case d.child != nil:
		return d.child.Addr
	}
	return d.stuck.LocalAddr().String()
}

// settle waits until the daemon has handled everything its socket holds
// (call it once the sender has finished; no quiet period is needed) and
// returns its counters. The timeout only bounds a failing test.
func (d *daemon) settle(t testing.TB) udpsink.Counts { return d.settleAfter(t, -1) }

// settleAfter is settle once sent datagrams (when ≥ 0) are accounted for:
// handled, spilled or dropped by the kernel.
func (d *daemon) settleAfter(t testing.TB, sent int64) udpsink.Counts {
	t.Helper()
	if d.child != nil {
		count := d.child.Counts
		if sent >= 0 {
			count = func() (udpsink.Counts, error) { return d.child.CountsAfter(sent) }
		}
		c, err := count()
		if err != nil {
			t.Fatalf("stand-in daemon: %v", err)
		}
		return c
	}
	s := d.sink
	if sent >= 0 {
		s.WaitUntil(30*time.Second, func() bool {
			k, _ := s.KernelDrops()
			return s.Handled()+s.Spilled()+int64(k) >= sent
		})
	}
	if !s.Settle(30 * time.Second) {
		t.Errorf("the stand-in daemon did not settle")
	}
	k, _ := s.KernelDrops()
	return udpsink.Counts{Received: s.Received(), Handled: s.Handled(), KernelDrops: int64(k), Spilled: s.Spilled(), Bytes: s.Bytes()}
}

// datagrams returns what a keeping daemon received (after settle).
func (d *daemon) datagrams(t testing.TB) [][]byte {
	t.Helper()
	if d.child != nil {
		g, err := d.child.Datagrams()
		if err != nil {
			t.Fatalf("stand-in daemon: %v", err)
		}
		return g
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.grams)
}

// segDoc is the part of a segment document the tests look at.
type segDoc struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	TraceID  string `json:"trace_id"`
	ParentID string `json:"parent_id"`
	Type     string `json:"type"`
	HTTP     struct {
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	raw []byte
}

// checkDatagrams validates every datagram (header, size, schema) and
// returns the decoded documents.
func checkDatagrams(t testing.TB, grams [][]byte) []segDoc {
	t.Helper()
	var out []segDoc
	bad := 0
	for _, g := range grams {
		if len(g) > xrayvalidate.MaxDatagramSize {
			t.Errorf("datagram of %d bytes exceeds %d", len(g), xrayvalidate.MaxDatagramSize)
		}
		if err := xrayvalidate.ValidateDatagram(g); err != nil {
			if bad++; bad <= 5 {
				t.Errorf("invalid segment datagram: %v\n%.600s", err, g)
			}
			continue
		}
		body := g[bytes.IndexByte(g, '\n')+1:]
		var s segDoc
		if err := json.Unmarshal(body, &s); err != nil {
			t.Errorf("segment body: %v", err)
			continue
		}
		s.raw = body
		out = append(out, s)
	}
	if bad > 5 {
		t.Errorf("… %d invalid datagrams in all", bad)
	}
	return out
}

// blackhole is a TCP listener that accepts connections and never reads or
// answers: an OTLP collector or CloudWatch agent that hangs.
type blackhole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func newBlackhole(t testing.TB) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) addr() string { return b.ln.Addr().String() }

func (b *blackhole) close() {
	_ = b.ln.Close()
	<-b.done
	b.mu.Lock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
}

// refusedAddr returns a loopback address (TCP and UDP) nobody listens on.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	_ = ln.Close()
	return a
}

// baseConfig is the SDK configuration every in-process test starts from:
// always-on sampling, output to buf, no resource detection, not global,
// no spans exported unless the test adds an exporter or processor.
func baseConfig(buf io.Writer, errs *counter) o11y.Config {
	return o11y.Config{
		ServiceName:              "reliability",
		Output:                   buf,
		DisableResourceDetection: true,
		DisableGlobals:           true,
		ErrorHandler:             errs.add,
		Traces: o11y.TracesConfig{
			Exporter: "none",
			Sampler:  "always_on",
		},
		Metrics: o11y.MetricsConfig{FlushInterval: time.Hour},
	}
}

func startSDK(t testing.TB, cfg o11y.Config) *o11y.SDK {
	t.Helper()
	sdk, err := o11y.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("o11y.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sdk.Shutdown(ctx)
	})
	return sdk
}

// spanCounter is a span processor that counts ended spans.
type spanCounter struct{ ended atomic.Int64 }

func (c *spanCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *spanCounter) OnEnd(sdktrace.ReadOnlySpan)                     { c.ended.Add(1) }
func (c *spanCounter) Shutdown(context.Context) error                  { return nil }
func (c *spanCounter) ForceFlush(context.Context) error                { return nil }

// heapInuse returns HeapInuse after a full GC.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rssBytes reads VmRSS from /proc (0 where unavailable).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb uint64
			_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func mib(b uint64) string       { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func smib(b int64) string       { return fmt.Sprintf("%+.1f MiB", float64(b)/(1<<20)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }

// percentile returns the p-th percentile (0..100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// get sends one GET and drains the body; it returns the status and the
// time the round trip took.
func get(c *http.Client, url string, hdr http.Header) (int, time.Duration, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// bug reports a defect of another package found by this suite. Every defect
// it found has been fixed; a regression fails the test.
func bug(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Errorf("BUG: "+format, args...)
}

// loadSlack is how much busier than its CPU count the machine is (1 when
// idle): time bounds that cannot be made relative to a baseline measured in
// the same run are multiplied by it, so a shared CI runner does not flake.
func loadSlack() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return 1
	}
	return max(1, l/float64(runtime.NumCPU()))
}
