package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/mwcore"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing"
)

// hostileEnv is an in-process service wired to every output: a stand-in
// daemon keeping datagrams, an in-memory span exporter and a line buffer.
type hostileEnv struct {
	sdk    *o11y.SDK
	daemon *daemon

	spans *tracetest.InMemoryExporter
	out   *lineBuf
	errs  *counter
	srv   *httptest.Server
}

func newHostileEnv(t *testing.T, handler func(mux *http.ServeMux, sdk *o11y.SDK)) *hostileEnv {
	t.Helper()
	e := &hostileEnv{daemon: newDaemon(t, true), spans: tracetest.NewInMemoryExporter(), out: &lineBuf{}, errs: &counter{}}
	cfg := baseConfig(e.out, e.errs)
	cfg.Traces.Exporter = "xray"
	cfg.Traces.DaemonAddress = e.daemon.addr()
	cfg.Traces.QueueSize = 1 << 16 // this test checks documents, not drops
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{sdktrace.NewSimpleSpanProcessor(e.spans)}
	e.sdk = startSDK(t, cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "order "+r.PathValue("id"))
	})
	mux.HandleFunc("GET /files/{path...}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "file")
	})
	if handler != nil {
		handler(mux, e.sdk)
	}
	// Bind the SDK's logger for logging.FromContext (this SDK is not global).
	logger := e.sdk.Logger()
	inner := httpmw.New(e.sdk)(mux)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(logging.NewContext(r.Context(), logger)))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// finish flushes everything and validates every output document.
func (e *hostileEnv) finish(t *testing.T) (outputs, []segDoc) {
	t.Helper()
	e.srv.Close()
	if err := e.sdk.Metrics().Flush(context.Background()); err != nil {
		t.Errorf("metrics flush: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sdk.TracerProvider().(*sdktrace.TracerProvider).ForceFlush(ctx); err != nil {
		t.Errorf("trace flush: %v", err)
	}
	e.daemon.settle(t)
	for _, n := range e.out.badSize {
		t.Errorf("an output Write of %d bytes was not exactly one line", n)
	}
	return checkLines(t, e.out.Bytes()), checkDatagrams(t, e.daemon.datagrams(t))
}

// rawRequest writes req on a fresh connection and returns the status line
// (so header values Go's client refuses to send can be tried).
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	return strings.TrimSpace(line)
}

// TestHostileTraceHeaders sends malformed, huge, unicode and
// control-character X-Amzn-Trace-Id and traceparent headers, and hostile
// request ids; every request must be answered normally and every output
// document stay valid.
func TestHostileTraceHeaders(t *testing.T) {
	e := newHostileEnv(t, nil)
	url := e.srv.URL + "/orders/1"
	huge := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;" + strings.Repeat("k=v;", 2048)
	traceHeaders := []string{
		huge,
		strings.Repeat("A", 8<<10),
		strings.Repeat(";", 4096),
		"Root=1-5759e988-bd862e3fe1be46a994272793" + strings.Repeat(";Parent=53995c3f42cd8ad8", 300),
		"Root=",
		"Root=1-zzzzzzzz-zzzzzzzzzzzzzzzzzzzzzzzz;Parent=zzzzzzzzzzzzzzzz;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=2",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1",
		"Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
		"Root=1-5759e988-bd862e3fe1be46a9942727931;Parent=53995c3f42cd8ad8",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Self=1-abc;Lineage=a:b:c",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;k=ünïcødé✓🚀",
		"Root=１-５７５９ｅ９８８-ｂｄ８６２ｅ３ｆｅ１ｂｅ４６ａ９９４２７２７９３",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;x=\xff\xfe\xc0",
		"Root=1-5759e988-bd862e3fe1be46a994272793;\tParent=53995c3f42cd8ad8;\tSampled=1",
		"=;=;=;=",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad8",
	}
	traceparents := []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		strings.Repeat("00-", 2000),
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra-✓",
	}
	requestIDs := []string{
		strings.Repeat("a", 129),
		strings.Repeat("a", 8<<10),
		`<script>alert(1)</script>`,
		`id","level":"ERROR","msg":"forged`,
		"ünïcødé-✓",
		"\xff\xfe",
		"id with spaces",
		"a\tb",
		"",
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	check := func(name string, hdr http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "order 1" {
			t.Errorf("%s: answered %d %q", name, resp.StatusCode, body)
		}
		if id := resp.Header.Get("X-Request-Id"); !mwcore.ValidRequestID(id) {
			t.Errorf("%s: response X-Request-Id %q is not a valid id", name, id)
		}
		xh := resp.Header.Get("X-Amzn-Trace-Id")
		if len(xh) > 256 || !xrayvalidate.IsTraceID(rootOf(xh)) || !utf8.ValidString(xh) {
			t.Errorf("%s: response X-Amzn-Trace-Id %.300q", name, xh)
		}
	}
	for i, h := range traceHeaders {
		check(fmt.Sprintf("X-Amzn-Trace-Id #%d", i), http.Header{"X-Amzn-Trace-Id": {h}})
	}
	for i, h := range traceparents {
		check(fmt.Sprintf("traceparent #%d", i), http.Header{"Traceparent": {h}, "Tracestate": {strings.Repeat("k=v,", 1000)}})
	}
	for i, id := range requestIDs {
		check(fmt.Sprintf("request id #%d", i), http.Header{"X-Request-Id": {id}})
	}
	check("many trace headers", http.Header{"X-Amzn-Trace-Id": traceHeaders})
	check("baggage", http.Header{"Baggage": {strings.Repeat("k=v%FF;p,", 2000)}})

	// Control characters: Go's client refuses to send them, so write the
	// request by hand. net/http's server rejects CTLs itself (400); what it
	// lets through must not hurt the middleware.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for i, v := range []string{"Root=1-5759e988-bd862e3fe1be46a994272793\x00", "Root=\x01\x02\x1b[31m", "Root=1\x7f", "a\rb"} {
		st := rawRequest(t, host, "GET /orders/1 HTTP/1.1\r\nHost: x\r\nX-Amzn-Trace-Id: "+v+"\r\nX-Request-Id: "+v+"\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(st, "HTTP/1.1 200") && !strings.HasPrefix(st, "HTTP/1.1 400") {
			t.Errorf("control characters #%d: status line %q", i, st)
		}
	}
	check("still healthy", nil)

	out, segs := e.finish(t)
	if len(segs) == 0 {
		t.Fatal("no segments received")
	}
	for _, l := range out.logs {
		if l["msg"] == "access" {
			if id, _ := l["request_id"].(string); !mwcore.ValidRequestID(id) {
				t.Errorf("access line with request_id %q", id)
			}
			if lvl, _ := l["level"].(string); lvl == "ERROR" {
				t.Errorf("forged field reached an access line: %v", l)
			}
		}
	}
	t.Logf("%d segments, %d log lines, %d EMF documents, all valid; ErrorHandler: %s", len(segs), len(out.logs), len(out.emf), e.errs)
}

// TestHostilePathsAndMethods sends 10,000 distinct paths (half matched by a
// wildcard route, half by nothing) and 100 made-up methods: span names and
// metric operations must stay a small fixed set.
func TestHostilePathsAndMethods(t *testing.T) {
	e := newHostileEnv(t, nil)
	paths := 10000
	if testing.Short() {
		paths = 1000
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	t0 := time.Now()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < paths; i += 4 {
				seg := fmt.Sprintf("%d-%x-%s", i, r.Uint64(), []string{"ü", "%E2%9C%93", "..", "a%2Fb", "%00", "x"}[i%6])
				want := http.StatusOK
				p := "/files/" + seg
				if i%2 == 1 {
					p, want = "/unmatched/"+seg, http.StatusNotFound
				}
				st, _, err := get(client, e.srv.URL+p, nil)
				if err != nil || (st != want && st != http.StatusBadRequest) {
					mu.Lock()
					if bad++; bad <= 5 {
						t.Errorf("%s: status %d (want %d), %v", p, st, want, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	tPaths := time.Since(t0)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for i := range 100 {
		m := fmt.Sprintf("M%03dX", i)
		st := rawRequest(t, host, m+" /orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(st, "HTTP/1.1 ") {
			t.Errorf("method %s: %q", m, st)
		}
	}

	tMethods := time.Since(t0) - tPaths
	out, segs := e.finish(t)
	t.Logf("paths %v, methods %v, finish %v", tPaths, tMethods, time.Since(t0)-tPaths-tMethods)
	names := map[string]int{}
	for _, s := range e.spans.GetSpans() {
		names[s.Name]++
	}
	segNames := map[string]int{}
	for _, s := range segs {
		segNames[s.Name]++
	}
	ops := map[string]bool{}
	for _, d := range out.emf {
		if op, ok := d.Members["Operation"].(string); ok {
			ops[op] = true
		}
	}
	t.Logf("%d requests: span names %v; segment names %v; EMF operations %v", paths+100, names, segNames, keys(ops))
	if len(names) > 6 {
		t.Errorf("%d distinct span names for %d paths (want a small fixed set): %v", len(names), paths, keys(names))
	}
	if len(ops) > 6 || len(ops) > metrics.DefaultMaxOperations {
		t.Errorf("%d distinct EMF operations (want a small fixed set, ≤ %d): %v", len(ops), metrics.DefaultMaxOperations, keys(ops))
	}
	for n := range names {
		if strings.Contains(n, "unmatched") || strings.ContainsAny(n, "0123456789") || strings.Contains(n, "M0") {
			t.Errorf("span name %q carries a raw path or method", n)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHostileNamesAndValues has the application annotate, add metadata, put
// metrics and log with bad names and 1 MB values; the request must succeed
// and every document stay valid and within its size limit.
func TestHostileNamesAndValues(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	bigUnicode := strings.Repeat("✓\"\\\n\x00", 1<<18)
	badNames := []string{
		"", " ", "with space", "dots.and-dashes", "ünïcødé✓", "quote\"back\\slash", "new\nline", "nul\x00",
		"\xff\xfe", strings.Repeat("k", 1000), "_aws", ":colon", "AWS/Thing", "{}[]", "$.injection", "emoji🚀",
	}
	e := newHostileEnv(t, func(mux *http.ServeMux, sdk *o11y.SDK) {
		mux.HandleFunc("POST /hostile", func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			span := trace.SpanFromContext(ctx)
			span.SetAttributes(attribute.String("big", big), attribute.String("big.unicode", bigUnicode),
				attribute.StringSlice("big.slice", []string{big, bigUnicode, big}))
			for i, n := range badNames {
				tracing.Annotate(ctx, n, fmt.Sprintf("value-%d-%s", i, n))
				tracing.AddMetadata(ctx, n, big)
				span.SetAttributes(attribute.String(n, bigUnicode))
			}
			tracing.Annotate(ctx, "huge_value", big)
			span.AddEvent("big event", trace.WithAttributes(attribute.String("e", big)))
			tracing.RecordError(ctx, fmt.Errorf("error with a huge message: %s", big))

			cctx, child := sdk.Tracer().Start(ctx, big) // 1 MB span name
			for i := range 200 {
				child.AddEvent(fmt.Sprintf("event %d", i), trace.WithAttributes(attribute.String("v", big[:10000])))
			}
			child.End()
			_ = cctx

			ml := sdk.Metrics().Logger(ctx)
			for i, n := range badNames {
				_ = ml.PutMetric(n, float64(i), metrics.Count)
				ml.PutDimensions(n, n+big[:2000])
				ml.SetProperty(n, big)
			}
			_ = ml.PutMetric("ok_metric", 1, metrics.Unit("NotAUnit"))
			ml.SetNamespace("AWS/" + big[:300])
			_ = ml.Flush()

			log := logging.FromContext(ctx)
			log.Info(big, "big", big, "unicode", bigUnicode, badNames[7], "v", badNames[8], big)
			log.Info("many", func() []any {
				var a []any
				for i := range 2000 {
					a = append(a, fmt.Sprintf("k%d", i), big[:1000])
				}
				return a
			}()...)
			_, _ = io.WriteString(w, "ok")
		})
	})
	e.sdk.Logger().Info("outside any request", "big", big)
	for range 3 {
		resp, err := http.Post(e.srv.URL+"/hostile", "text/plain", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "ok" {
			t.Fatalf("answered %d %q", resp.StatusCode, b)
		}
	}
	out, segs := e.finish(t)
	maxSeg, maxLine := 0, 0
	for _, s := range segs {
		maxSeg = max(maxSeg, len(s.raw))
	}
	for _, l := range out.logLines {
		maxLine = max(maxLine, len(l))
	}
	for _, l := range out.emfLines {
		maxLine = max(maxLine, len(l))
	}
	t.Logf("%d segments (largest %d bytes), %d log lines, %d EMF documents (largest line %d bytes); ErrorHandler: %s",
		len(segs), maxSeg, len(out.logs), len(out.emf), maxLine, e.errs)
	if len(segs) < 6 {
		t.Errorf("%d segments for 3 requests with a child span each (want ≥ 6)", len(segs))
	}
	if len(out.emf) == 0 {
		t.Error("no EMF document: the per-event logger's metrics were lost")
	}
	if len(out.logs) < 6 {
		t.Errorf("%d log lines (want the access lines and the application's)", len(out.logs))
	}
}

// TestHostileGRPCMetadata sends hostile x-amzn-trace-id, traceparent and
// x-request-id metadata and unknown methods to a grpcmw-instrumented
// server: every call is answered and every output document stays valid.
func TestHostileGRPCMetadata(t *testing.T) {
	e := newHostileEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The health service is skipped by default; record it here so the
	// hostile metadata reaches the instrumentation.
	noSkip := grpcmw.WithSkip(func(string) bool { return false })
	srv := grpc.NewServer(append(grpcmw.ServerOptions(e.sdk, noSkip), grpc.StatsHandler(grpcmw.NewServerHandler(e.sdk, noSkip)))...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	// grpc-go refuses to send non-printable or non-ASCII metadata values,
	// so these stay within printable ASCII.
	values := []string{
		strings.Repeat("A", 8<<10),
		strings.Repeat(";", 4096),
		"Root=1-zzzzzzzz-zzzzzzzzzzzzzzzzzzzzzzzz;Parent=zzzzzzzzzzzzzzzz",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1",
		"<script>alert(1)</script>",
		`id","level":"ERROR","msg":"forged`,
		strings.Repeat("a", 129),
	}
	for i, v := range values {
		md := metadata.Pairs("x-amzn-trace-id", v, "traceparent", v, "x-request-id", v, "baggage", v)
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 5*time.Second)
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("value #%d: %v", i, err)
		}
		cancel()
	}
	// 1,000 made-up methods: the span names and metric operations must
	// stay bounded.
	for i := range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := conn.Invoke(ctx, fmt.Sprintf("/evil.Service%d/Method%d", i, i), &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		cancel()
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("unknown method: %v", err)
		}
	}
	srv.GracefulStop()
	out, segs := e.finish(t)
	names := map[string]int{}
	for _, s := range e.spans.GetSpans() {
		names[s.Name]++
	}
	ops := map[string]bool{}
	for _, d := range out.emf {
		if op, ok := d.Members["Operation"].(string); ok {
			ops[op] = true
		}
	}
	for _, l := range out.logs {
		if id, ok := l["request_id"].(string); ok && !mwcore.ValidRequestID(id) {
			t.Errorf("log line with request_id %q", id)
		}
	}
	if names["/grpc.health.v1.Health/Check"] != len(values) {
		t.Errorf("span names %v: want %d Check spans", keys(names), len(values))
	}
	t.Logf("%d spans (%d names), %d segments, %d log lines, %d EMF documents, operations %v", len(e.spans.GetSpans()), len(names), len(segs), len(out.logs), len(out.emf), keys(ops))
	if len(names) > metrics.DefaultMaxOperations+5 {
		t.Errorf("%d distinct span names for 1,000 unknown methods", len(names))
	}
	if len(ops) > metrics.DefaultMaxOperations+1 {
		t.Errorf("%d EMF operations for 1,000 unknown methods (guard %d)", len(ops), metrics.DefaultMaxOperations)
	}
}

// capture keeps the last ended span.
type capture struct {
	mu   sync.Mutex
	last sdktrace.ReadOnlySpan
}

func (c *capture) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *capture) OnEnd(s sdktrace.ReadOnlySpan)                   { c.mu.Lock(); c.last = s; c.mu.Unlock() }
func (c *capture) Shutdown(context.Context) error                  { return nil }
func (c *capture) ForceFlush(context.Context) error                { return nil }

// TestHugeAttributeHeldInMemory: the exporters bound how many spans wait
// (QueueSize, the batch being sent included), not their size. Unless the
// tracer provider limits attribute value length, a span holding a 1 MB
// attribute keeps it whole until export, so a stuck exporter can hold
// QueueSize × (value size) bytes: 2 GiB for 2,048 queued 1 MB values.
func TestHugeAttributeHeldInMemory(t *testing.T) {
	c := &capture{}
	cfg := baseConfig(&lineBuf{discard: true}, &counter{})
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{c}
	sdk := startSDK(t, cfg)
	_, span := sdk.Tracer().Start(context.Background(), "big",
		trace.WithAttributes(attribute.String("body", strings.Repeat("x", 1<<20))))
	for i := range 500 {
		span.AddEvent("e", trace.WithAttributes(attribute.Int("i", i)))
	}
	span.End()
	c.mu.Lock()
	s := c.last
	c.mu.Unlock()
	held := 0
	for _, a := range s.Attributes() {
		held = max(held, len(a.Value.String()))
	}
	t.Logf("attribute value held: %d bytes; events kept: %d (dropped %d)", held, len(s.Events()), s.DroppedEvents())
	if held > 64<<10 {
		bug(t, "span attribute values are not length-limited (a 1 MB value is held whole until export; a stuck exporter can hold QueueSize × value size)")
	}
}
