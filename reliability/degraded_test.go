package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// scenario is one state of the telemetry infrastructure the service runs
// against.
type scenario struct {
	name string
	// setup edits the config; it may return the xrayudp processor it
	// installed (for its Stats).
	setup func(t *testing.T, cfg *o11y.Config, errs *counter) *xrayudp.Processor
	// kind of drop accounting the scenario must show.
	expectXRayErrors bool

	sdk    *o11y.SDK
	proc   *xrayudp.Processor
	spans  *spanCounter
	errs   *counter
	out    *lineBuf
	srv    *httptest.Server
	client *http.Client
	lat    []time.Duration
	heap   int64
}

func xrayProc(t *testing.T, cfg *o11y.Config, errs *counter, addr string) *xrayudp.Processor {
	p, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: addr, ErrorHandler: errs.add})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Traces.SpanProcessors = append(cfg.Traces.SpanProcessors, p)
	return p
}

func degradedScenarios(t *testing.T) []*scenario {
	return []*scenario{
		{name: "xray: healthy daemon (baseline)", setup: func(t *testing.T, cfg *o11y.Config, errs *counter) *xrayudp.Processor {
			return xrayProc(t, cfg, errs, newDaemon(t, false).addr())
		}},
		{name: "no exporter", setup: func(*testing.T, *o11y.Config, *counter) *xrayudp.Processor { return nil }},
		{name: "xray: nothing listening", expectXRayErrors: true, setup: func(t *testing.T, cfg *o11y.Config, errs *counter) *xrayudp.Processor {
			return xrayProc(t, cfg, errs, refusedAddr(t))
		}},
		{name: "xray: daemon never reads", setup: func(t *testing.T, cfg *o11y.Config, errs *counter) *xrayudp.Processor {
			return xrayProc(t, cfg, errs, newStuckDaemon(t).addr())
		}},
		{name: "xray via Config: nothing listening", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Traces.Exporter = "xray"
			cfg.Traces.DaemonAddress = refusedAddr(t)
			return nil
		}},
		{name: "otlp grpc: blackhole collector", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Traces.Exporter = "otlp"
			cfg.Traces.OTLPEndpoint = "http://" + newBlackhole(t).addr()
			return nil
		}},
		{name: "otlp grpc: refused", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Traces.Exporter = "otlp"
			cfg.Traces.OTLPEndpoint = "http://" + refusedAddr(t)
			return nil
		}},
		{name: "otlp http: blackhole collector", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Traces.Exporter = "otlp"
			cfg.Traces.OTLPProtocol = "http/protobuf"
			cfg.Traces.OTLPEndpoint = "http://" + newBlackhole(t).addr()
			return nil
		}},
		{name: "emf agent tcp: blackhole", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Metrics.AgentEndpoint = "tcp://" + newBlackhole(t).addr()
			return nil
		}},
		{name: "emf agent tcp: refused", setup: func(t *testing.T, cfg *o11y.Config, _ *counter) *xrayudp.Processor {
			cfg.Metrics.AgentEndpoint = "tcp://" + refusedAddr(t)
			return nil
		}},
	}
}

// TestDegradedInfrastructureLatency serves requests through httpmw while the
// daemon, collector or agent is healthy, absent, stuck or refusing, and
// compares latency, heap growth, drop accounting and error reports with the
// healthy baseline measured in the same run.
func TestDegradedInfrastructureLatency(t *testing.T) {
	const (
		rounds      = 40 // fine interleaving: a burst of machine load hits every scenario alike
		perRound    = 12
		heapReqs    = 1200
		maxReports  = 5
		maxHeapGrow = 32 << 20
	)
	otelBefore := otelErrors.count()
	// Reports are rate-limited per kind per minute: on a slow machine the
	// run spans more than one window, and each window may report again.
	began := time.Now()
	reportBound := func() int { return maxReports * (1 + int(time.Since(began)/time.Minute)) }
	scs := degradedScenarios(t)
	for _, sc := range scs {
		sc.errs = &counter{}
		sc.out = &lineBuf{discard: true}
		sc.spans = &spanCounter{}
		cfg := baseConfig(sc.out, sc.errs)
		cfg.Metrics.FlushInterval = time.Second // the shortest interval: keeps the EMF path busy
		cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{sc.spans}
		sc.proc = sc.setup(t, &cfg, sc.errs)
		sdk, err := o11y.Start(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s: Start: %v", sc.name, err)
		}
		sc.sdk = sdk
		mux := http.NewServeMux()
		mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"` + r.PathValue("id") + `","status":"shipped"}`))
		})
		sc.srv = httptest.NewServer(httpmw.New(sdk)(mux))
		sc.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		t.Cleanup(func() { sc.client.CloseIdleConnections(); sc.srv.Close() })
	}

	// Warm up every server (connections, pools, operation caches).
	for _, sc := range scs {
		for i := range 100 {
			if _, _, err := get(sc.client, fmt.Sprintf("%s/orders/%d", sc.srv.URL, i), nil); err != nil {
				t.Fatalf("%s: %v", sc.name, err)
			}
		}
	}

	// Latency: interleaved rounds so machine noise hits every scenario alike.
	for r := range rounds {
		for _, sc := range scs {
			for i := range perRound {
				st, d, err := get(sc.client, fmt.Sprintf("%s/orders/%d", sc.srv.URL, r*perRound+i), nil)
				if err != nil || st != http.StatusOK {
					t.Fatalf("%s: request failed: status %d, %v", sc.name, st, err)
				}
				sc.lat = append(sc.lat, d)
			}
		}
	}

	// Heap: each scenario alone, a full GC before and after.
	for _, sc := range scs {
		before := heapInuse()
		for i := range heapReqs {
			if st, _, err := get(sc.client, fmt.Sprintf("%s/orders/%d", sc.srv.URL, i), nil); err != nil || st != http.StatusOK {
				t.Fatalf("%s: request failed: status %d, %v", sc.name, st, err)
			}
		}
		sc.heap = int64(heapInuse()) - int64(before)
	}

	// Shutdown every SDK in parallel with a 2 s deadline; it must return
	// by then even with a collector that never answers.
	var wg sync.WaitGroup
	shut := make([]time.Duration, len(scs))
	shutErr := make([]error, len(scs))
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			shutErr[i] = sc.sdk.Shutdown(ctx)
			shut[i] = time.Since(start)
		}()
	}
	wg.Wait()
	otelAfter := otelErrors.count()

	base := scs[0]
	slices.Sort(base.lat)
	bp50, bp90, bp99 := percentile(base.lat, 50), percentile(base.lat, 90), percentile(base.lat, 99)
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "\n| scenario | p50 | p99 | p50 vs baseline | heap growth after %d req | shutdown | spans ended | xray sent/errors/dropped | ErrorHandler calls |\n|---|---|---|---|---|---|---|---|---|\n", heapReqs)
	for i, sc := range scs {
		slices.Sort(sc.lat)
		p50, p90, p99 := percentile(sc.lat, 50), percentile(sc.lat, 90), percentile(sc.lat, 99)
		st := sc.proc.Stats()
		xs := "–"
		if sc.proc != nil {
			xs = fmt.Sprintf("%d / %d / %d", st.Sent, st.Errors, st.Dropped)
		}
		fmt.Fprintf(&tbl, "| %s | %s | %s | %+.0f %% | %s | %s | %d | %s | %d |\n", sc.name, us(p50), us(p99),
			100*(float64(p50)/float64(bp50)-1), smib(sc.heap), shut[i].Round(time.Millisecond), sc.spans.ended.Load(), xs, sc.errs.count())

		t.Run(sc.name, func(t *testing.T) {
			// The claim is that broken telemetry infrastructure puts no I/O
			// on the request path: blocking would cost each affected request
			// at least a write timeout (100 ms) or an exporter timeout
			// (seconds). The bounds are relative to the baseline measured
			// interleaved in this run, with additive room for the scheduler
			// delays a loaded 2-core machine (a CPU hog beside the test) adds
			// to a few requests of any scenario. The exact per-request cost
			// is a benchmark's job (bench/).
			if lim := bp50*2 + time.Millisecond; p50 > lim {
				t.Errorf("p50 %v exceeds baseline %v ×2 + 1ms = %v", p50, bp50, lim)
			}
			if lim := bp90*3 + 10*time.Millisecond; p90 > lim {
				t.Errorf("p90 %v exceeds baseline %v ×3 + 10ms = %v", p90, bp90, lim)
			}
			if lim := bp99*3 + 50*time.Millisecond; p99 > lim {
				t.Errorf("p99 %v exceeds baseline %v ×3 + 50ms = %v", p99, bp99, lim)
			}
			if sc.heap > maxHeapGrow {
				t.Errorf("heap grew by %s over %d requests (bound %s)", smib(sc.heap), heapReqs, mib(maxHeapGrow))
			}
			if lim := 2*time.Second + time.Duration(float64(500*time.Millisecond)*loadSlack()); shut[i] > lim {
				t.Errorf("Shutdown took %v with a 2 s deadline (want < %v)", shut[i], lim)
			}
			if n, lim := sc.errs.count(), reportBound(); n > lim {
				t.Errorf("ErrorHandler called %d times for %d requests (want ≤ %d, rate-limited): %s", n, len(sc.lat)+heapReqs+100, lim, sc.errs)
			}
			if sc.proc != nil {
				// Every span is accounted for: sent, failed or dropped.
				if got, want := st.Sent+st.Errors+st.Dropped, uint64(sc.spans.ended.Load()); got != want {
					t.Errorf("xray accounting: sent %d + errors %d + dropped %d = %d, want %d ended spans", st.Sent, st.Errors, st.Dropped, got, want)
				}
				if sc.expectXRayErrors {
					if st.Errors+st.Dropped == 0 {
						t.Errorf("no daemon, yet no error or drop counted: %+v", st)
					}
					if sc.errs.count() == 0 {
						t.Errorf("no daemon, yet nothing reported to the ErrorHandler")
					}
				}
			}
			t.Logf("errors: %s; shutdown error: %v", sc.errs, shutErr[i])
		})
	}
	t.Logf("baseline p50 %s p99 %s; OpenTelemetry global error handler calls during the run: %d (%s)%s",
		us(bp50), us(bp99), otelAfter-otelBefore, otelErrors.String(), tbl.String())
	if n := otelAfter - otelBefore; n > 3*reportBound() {
		t.Errorf("OpenTelemetry error handler called %d times: export failures must be reported a handful of times, not per request", n)
	}
}

// TestOTLPFailuresReachErrorHandler: with an OTLP collector refusing
// connections, the failure must reach Config.ErrorHandler (rate-limited),
// as the X-Ray exporter's does, rather than only the OpenTelemetry global
// error handler (which the SDK does not rate-limit and, with DisableGlobals or
// a user-installed handler, may never see it).
func TestOTLPFailuresReachErrorHandler(t *testing.T) {
	errs := &counter{}
	cfg := baseConfig(&lineBuf{discard: true}, errs)
	cfg.Traces.Exporter = "otlp"
	cfg.Traces.OTLPProtocol = "http/protobuf"
	cfg.Traces.OTLPEndpoint = "http://" + refusedAddr(t)
	sdk, err := o11y.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, span := sdk.Tracer().Start(context.Background(), "s")
		span.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	flushErr := sdk.TracerProvider().(*sdktrace.TracerProvider).ForceFlush(ctx)
	shutdown(t, sdk, 200*time.Millisecond)
	t.Logf("ForceFlush: %v; ErrorHandler: %s", flushErr, errs)
	if errs.count() == 0 {
		bug(t, "OTLP export failures (collector refusing) never reach Config.ErrorHandler and no drop is counted")
	}
}

// TestStartAndShutdownNeverBlock starts the SDK against endpoints that
// accept connections and never answer (ECS task metadata, the X-Ray
// sampling proxy, an OTLP collector, a CloudWatch agent): Start must return
// within DetectTimeout plus slack, serve requests at once, and Shutdown
// return by its deadline.
func TestStartAndShutdownNeverBlock(t *testing.T) {
	hole := newBlackhole(t)
	t.Setenv("ECS_CONTAINER_METADATA_URI_V4", "http://"+hole.addr()+"/v4/task")
	errs := &counter{}
	cfg := o11y.ConfigFromEnv()
	base := baseConfig(&lineBuf{discard: true}, errs)
	cfg.ServiceName, cfg.Output, cfg.DisableGlobals, cfg.ErrorHandler = base.ServiceName, base.Output, true, errs.add
	cfg.Platform = "ecs"
	cfg.DetectTimeout = 300 * time.Millisecond
	cfg.Traces.Exporter = "otlp"
	cfg.Traces.OTLPEndpoint = "http://" + hole.addr()
	cfg.Traces.DaemonAddress = "tcp:" + hole.addr() + " udp:" + refusedAddr(t)
	cfg.Traces.CentralizedSampling = true
	cfg.Metrics.AgentEndpoint = "tcp://" + hole.addr()
	cfg.Metrics.FlushInterval = time.Second // the shortest interval

	start := time.Now()
	sdk, err := o11y.Start(context.Background(), cfg)
	took := time.Since(start)
	if err != nil {
		t.Logf("Start: %v", err)
	}
	srv := httptest.NewServer(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	var lat []time.Duration
	for range 200 {
		st, d, err := get(c, srv.URL, nil)
		if err != nil || st != http.StatusOK {
			t.Fatalf("request: %d %v", st, err)
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sstart := time.Now()
	serr := sdk.Shutdown(ctx)
	stook := time.Since(sstart)
	t.Logf("Start %v (DetectTimeout %v); first 200 requests p50 %s max %s; Shutdown %v (%v); ErrorHandler: %s",
		took.Round(time.Millisecond), cfg.DetectTimeout, us(percentile(lat, 50)), us(percentile(lat, 100)), stook.Round(time.Millisecond), serr, errs)
	slack := loadSlack()
	if lim := cfg.DetectTimeout + time.Duration(float64(time.Second)*slack); took > lim {
		t.Errorf("Start took %v with every endpoint blackholed (want < %v)", took, lim)
	}
	if stook > time.Second+time.Duration(float64(500*time.Millisecond)*slack) {
		t.Errorf("Shutdown took %v with a 1 s deadline", stook)
	}
	if p := percentile(lat, 50); p > time.Duration(float64(50*time.Millisecond)*slack) {
		t.Errorf("requests right after Start: p50 %v", p)
	}
}

// stallWriter blocks every Write while stalled.
type stallWriter struct {
	mu  sync.RWMutex // held for writing while stalled
	buf lineBuf
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.buf.Write(p)
}

// TestStalledStdout documents what a stalled stdout (a log driver that
// stopped reading, in Docker's default blocking mode) does. Written
// synchronously (one write per line), requests that log wait for it;
// batched (Logs.FlushInterval, the default for stdout), they do not, until
// both 64 KiB buffers are full. The test checks there is no deadlock and no
// lost or torn line once it resumes, and logs the latency seen during the
// stall.
func TestStalledStdout(t *testing.T) {
	for _, c := range []struct {
		name  string
		flush time.Duration
	}{{"synchronous", -1}, {"batched 2ms", 2 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) { testStalledStdout(t, c.flush) })
	}
}

func testStalledStdout(t *testing.T, flush time.Duration) {
	w := &stallWriter{}
	w.buf.batches = flush > 0
	cfg := baseConfig(w, &counter{})
	cfg.Logs.FlushInterval = flush
	sdk := startSDK(t, cfg)
	srv := httptest.NewServer(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	if _, _, err := get(c, srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	const stall = 300 * time.Millisecond
	w.mu.Lock()
	time.AfterFunc(stall, w.mu.Unlock)
	var wg sync.WaitGroup
	lat := make([]time.Duration, 8)
	for i := range lat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, d, err := get(c, srv.URL, nil)
			if err != nil || st != http.StatusOK {
				t.Errorf("request during the stall: %d %v", st, err)
			}
			lat[i] = d
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	if err := sdk.ForceFlush(context.Background()); err != nil {
		t.Errorf("flush: %v", err)
	}
	out := checkLines(t, w.buf.Bytes())
	access := 0
	for _, l := range out.logs {
		if l["msg"] == "access" {
			access++
		}
	}
	if access != 9 {
		t.Errorf("%d access lines for 9 requests", access)
	}
	if len(w.buf.badSize) > 0 {
		t.Errorf("torn writes: %v", w.buf.badSize)
	}
	if st := sdk.Stats(); st.LinesDropped != 0 {
		t.Errorf("%d lines dropped", st.LinesDropped)
	}
	t.Logf("stdout stalled %v, Logs.FlushInterval %v: 8 concurrent requests took min %v, max %v",
		stall, flush, lat[0].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}
