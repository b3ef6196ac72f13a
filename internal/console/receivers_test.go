package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/tracing/xraysampling"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
)

func startLoopback(t *testing.T, opts Options) *Console {
	t.Helper()
	opts.XRayAddr, opts.OTLPGRPCAddr, opts.OTLPHTTPAddr, opts.EMFAddr, opts.HTTPAddr =
		"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	c, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// waitFor polls cond until it holds or 10 s pass (a bound, not a timing
// assertion: on a loaded machine the condition just takes longer).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReceiversWithSDK points three instances of the SDK at the console, one
// per trace path (X-Ray daemon UDP, OTLP/gRPC, OTLP/HTTP), with EMF to the
// agent port, and checks each path arrives as segments and metrics.
func TestReceiversWithSDK(t *testing.T) {
	c := startLoopback(t, Options{IndexedAttributes: []string{"order_id"}})
	ctx := context.Background()
	paths := []struct {
		service string
		set     func(*o11y.Config)
	}{
		{"via-xray", func(cfg *o11y.Config) { cfg.Traces.Exporter, cfg.Traces.DaemonAddress = "xray", c.Addr("xray") }},
		{"via-grpc", func(cfg *o11y.Config) {
			cfg.Traces.Exporter, cfg.Traces.OTLPEndpoint, cfg.Traces.OTLPProtocol = "otlp", "http://"+c.Addr("otlp-grpc"), "grpc"
		}},
		{"via-http", func(cfg *o11y.Config) {
			cfg.Traces.Exporter, cfg.Traces.OTLPEndpoint, cfg.Traces.OTLPProtocol = "otlp", "http://"+c.Addr("otlp-http")+"/v1/traces", "http/protobuf"
		}},
	}
	ids := map[string]string{}
	for _, p := range paths {
		cfg := o11y.Config{ServiceName: p.service, Output: &bytes.Buffer{}, DisableResourceDetection: true, DisableGlobals: true}
		cfg.Traces.Sampler = "always_on"
		cfg.Traces.IndexedAttributes = []string{"order_id"}
		cfg.Metrics.AgentEndpoint = "tcp://" + c.Addr("emf")
		cfg.Metrics.Namespace = "console-test"
		p.set(&cfg)
		sdk, err := o11y.Start(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", p.service, err)
		}
		sctx, span := sdk.Tracer().Start(ctx, "GET /orders/{id}", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
		span.SetAttributes(attrString("order_id", "42"))
		_, child := sdk.Tracer().Start(sctx, "inventory", oteltrace.WithSpanKind(oteltrace.SpanKindClient))
		child.End()
		span.End()
		sdk.Metrics().Operation("GET /orders/{id}").Observe(sctx, 3*time.Millisecond, 0)
		ids[p.service] = span.SpanContext().TraceID().String()
		if err := sdk.Shutdown(ctx); err != nil {
			t.Fatalf("%s shutdown: %v", p.service, err)
		}
	}
	for _, p := range paths {
		f, _ := ParseFilter(`service("` + p.service + `") AND annotation.order_id = "42"`)
		waitFor(t, p.service+" trace", func() bool {
			return c.store.Traces(f, 0, 10).Matched == 1
		})
		list := c.store.Traces(f, 0, 10)
		d, _ := c.store.Trace(list.Traces[0].ID)
		if len(d.Segments) != 2 {
			t.Errorf("%s: %d documents, want segment and subsegment", p.service, len(d.Segments))
		}
	}
	waitFor(t, "EMF documents of the three services", func() bool {
		services := map[string]bool{}
		for _, s := range c.store.metrics.query(time.Hour, time.Minute) {
			if s.Name == "Latency" {
				services[s.Dims["Service"]] = true
			}
		}
		return len(services) == 3
	})
	if st := c.Stats(); st["bad_segments"] != 0 || st["bad_otlp"] != 0 || st["bad_emf"] != 0 {
		t.Errorf("rejected input: %v", st)
	}
}

func TestEMFUDPAndMalformed(t *testing.T) {
	c := startLoopback(t, Options{})
	conn, err := net.Dial("udp", c.Addr("emf"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(emfCustom + "\n" + "garbage\n"))
	tc, err := net.Dial("tcp", c.Addr("emf"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tc.Write([]byte(emfLatency + "\n{not json\n"))
	tc.Close()
	waitFor(t, "EMF over UDP and TCP", func() bool { return c.Stats()["emf_documents"] == 2 && c.Stats()["bad_emf"] == 2 })
}

func TestOTLPHTTPRejectsGarbage(t *testing.T) {
	c := startLoopback(t, Options{})
	for _, ct := range []string{"application/x-protobuf", "application/json"} {
		resp, err := http.Post("http://"+c.Addr("otlp-http")+"/v1/traces", ct, strings.NewReader("\xff\xff\xff garbage"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s garbage: HTTP %d, want 400", ct, resp.StatusCode)
		}
	}
	if got := c.Stats()["bad_otlp"]; got != 2 {
		t.Errorf("bad_otlp = %d, want 2", got)
	}
}

// TestSamplingProxy runs the SDK's centralized sampler against the console's
// sampling proxy: the rule from -sampling-rules must reach it.
func TestSamplingProxy(t *testing.T) {
	rules := `{"version":2,"rules":[{"description":"console-all","host":"*","http_method":"*","url_path":"*","fixed_target":0,"rate":1}],"default":{"fixed_target":0,"rate":0}}`
	c := startLoopback(t, Options{SamplingRules: []byte(rules)})
	s, err := xraysampling.New(xraysampling.Options{ServiceName: "svc", Centralized: true, ProxyAddress: c.Addr("xray"), RecordRuleName: true,
		Rules: []byte(`{"version":2,"default":{"fixed_target":0,"rate":0}}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var tid oteltrace.TraceID
	tid[0] = 1
	p := sdktrace.SamplingParameters{TraceID: tid, Name: "GET /x", Kind: oteltrace.SpanKindServer}
	waitFor(t, "the proxy's rule to be used", func() bool { return s.RuleName(p) == "console-all" })
	if r := s.ShouldSample(p); r.Decision != sdktrace.RecordAndSample {
		t.Errorf("decision %v under a rate-1 rule", r.Decision)
	}
	// The targets endpoint answers in the API's shape.
	resp, err := http.Post("http://"+c.Addr("xray")+"/SamplingTargets", "application/json",
		strings.NewReader(`{"SamplingStatisticsDocuments":[{"RuleName":"console-all","ClientID":"x","Timestamp":1,"RequestCount":3,"SampledCount":3,"BorrowCount":0},{"RuleName":"nope"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		SamplingTargetDocuments []struct {
			RuleName  string
			FixedRate float64
			Interval  int
		}
		UnprocessedStatistics []struct{ RuleName, ErrorCode string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.SamplingTargetDocuments) != 1 || out.SamplingTargetDocuments[0].FixedRate != 1 || len(out.UnprocessedStatistics) != 1 {
		t.Errorf("targets answer %+v", out)
	}
}
