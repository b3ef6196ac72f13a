package console

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoDocs is one checkout trace of the demo as the SDK sent it: six
// documents (gateway, orders and inventory segments; charge-card, the gRPC
// call and the HTTP call as subsegments), 0.3–1 KB each.
func demoDocs(tb testing.TB) [][]byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/demo_trace.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

const demoTraceID = "1-6b11957a-841ffb4c2b4208c9c003abd8"

// traceDocs returns the demo trace's documents with trace id i and order id
// 20000+i, as daemon datagrams.
func traceDocs(docs [][]byte, i int) [][]byte {
	id := fmt.Sprintf("1-6b11957a-%024x", i)
	out := make([][]byte, len(docs))
	for j, d := range docs {
		d = bytes.ReplaceAll(d, []byte(demoTraceID), []byte(id))
		d = bytes.ReplaceAll(d, []byte(`"order_id":"20077"`), []byte(fmt.Sprintf(`"order_id":"%d"`, 20000+i)))
		out[j] = append([]byte("{\"format\": \"json\", \"version\": 1}\n"), d...)
	}
	return out
}

// fill stores n demo traces, timed at now.
func fill(tb testing.TB, c *Console, n int) {
	tb.Helper()
	docs := demoDocs(tb)
	for i := 0; i < n; i++ {
		for _, d := range traceDocs(docs, i) {
			if err := c.IngestDatagram(d); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// benchClock puts the testdata traces (December 2026) inside every window.
var benchNow = time.Unix(1796314500, 0)

func newBenchConsole(tb testing.TB, opts Options) *Console {
	opts.Now = func() time.Time { return benchNow }
	c, err := Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkIngestDatagram is the parse-and-store cost of one segment
// datagram (no socket), the work the console's parser goroutines do.
func BenchmarkIngestDatagram(b *testing.B) {
	c := newBenchConsole(b, Options{})
	defer c.Close()
	docs := demoDocs(b)
	var all [][]byte
	for i := 0; i < 2000; i++ {
		all = append(all, traceDocs(docs, i)...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.IngestDatagram(all[i%len(all)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestUDP sends demo segment datagrams to the console's X-Ray UDP
// receiver at a fixed rate (-rate, default 25,000/s, in 1 ms bursts) and
// waits until every one is stored. ns/op is per datagram; "lost" must be 0
// and "segments/s" is the rate the console kept up with.
func BenchmarkIngestUDP(b *testing.B) {
	for _, rate := range []int{25000, 50000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) { benchUDP(b, rate) })
	}
}

func benchUDP(b *testing.B, rate int) {
	c := newBenchConsole(b, Options{XRayAddr: "127.0.0.1:0"})
	defer c.Close()
	docs := demoDocs(b)
	var all [][]byte
	for i := 0; i < 4000; i++ {
		all = append(all, traceDocs(docs, i)...)
	}
	conn, err := net.Dial("udp", c.Addr("xray"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	before := c.stats.Segments.Load()
	perBurst := rate / 1000
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		// Pace: burst k is due at start + k ms.
		due := start.Add(time.Duration(i/perBurst) * time.Millisecond)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		for j := 0; j < perBurst && i < b.N; j++ {
			_, _ = conn.Write(all[i%len(all)])
			i++
		}
	}
	sent := time.Since(start)
	deadline := time.Now().Add(10 * time.Second)
	for c.stats.Segments.Load()-before < uint64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	got := c.stats.Segments.Load() - before
	b.ReportMetric(float64(uint64(b.N)-got), "lost")
	b.ReportMetric(float64(c.overloads.Load()), "queue-dropped")
	b.ReportMetric(float64(b.N)/sent.Seconds(), "segments/s")
	b.ReportMetric(float64(rcvbuf(c)>>10), "rcvbuf-KiB")
}

// rcvbuf reads back the X-Ray socket's receive buffer: what the kernel
// granted for the console's SetReadBuffer (enlargeReadBuffer: the console
// is the developer's receiver, not a daemon stand-in; Linux reports twice
// the usable size).
func rcvbuf(c *Console) int {
	rc, err := c.xrayConn.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
	return n
}

// BenchmarkQuery answers the trace list (three filters) and the service
// map over 10,000 stored demo traces (60,000 documents), through the HTTP
// API including JSON encoding.
func BenchmarkQuery(b *testing.B) {
	c := newBenchConsole(b, Options{})
	defer c.Close()
	fill(b, c, DefaultMaxTraces)
	h := c.Handler()
	for _, q := range []struct{ name, url string }{
		{"list/all", "/api/traces?limit=100"},
		{"list/annotation", "/api/traces?filter=" + strings.ReplaceAll(`annotation.order_id = "25000"`, " ", "%20")},
		{"list/complex", "/api/traces?filter=" + strings.NewReplacer(" ", "%20", `"`, "%22").Replace(`service("inventory") AND (http.url CONTAINS "checkout" OR responsetime > 0.5) AND NOT fault`)},
		{"map", "/api/map?window=0"},
		{"map/15m", "/api/map?window=900"},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, q.url, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: HTTP %d %s", q.url, rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkMemoryAtDefaultBound reports the heap the store holds with the
// default 10,000 demo traces (and 5 log lines per trace).
func BenchmarkMemoryAtDefaultBound(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, _ := New(Options{Now: func() time.Time { return benchNow }})
		fill(b, c, DefaultMaxTraces)
		for t := 0; t < DefaultMaxTraces; t++ {
			for l := 0; l < 5; l++ {
				c.IngestLine([]byte(fmt.Sprintf(`{"time":"2026-12-03T16:14:50.240Z","level":"INFO","msg":"card charged","service":"orders","order_id":"%d","xray_trace_id":"1-6b11957a-%024x","trace_id":"6b11957a841ffb4c2b4208c9c003abd8","span_id":"9a422e78545bae26","request_id":"28ad144b6a8b54961c1111b1febce92c"}`, 20000+t, t)))
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
		runtime.KeepAlive(c)
	}
}
