package e2e

import (
	"context"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/o11y-go/o11y/examples/internal/segsink"
)

// otlpCollector is a fake OTLP/gRPC traces endpoint (App Runner's managed
// collector, an ADOT sidecar) that keeps every span it receives.
type otlpCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
	res   []map[string]string // resource attributes, one per span
}

func (c *otlpCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		attrs := attrMap(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				c.spans = append(c.spans, sp)
				c.res = append(c.res, attrs)
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch {
		case v.GetArrayValue() != nil:
			var parts []string
			for _, e := range v.GetArrayValue().GetValues() {
				parts = append(parts, e.GetStringValue())
			}
			m[kv.GetKey()] = strings.Join(parts, ",")
		default:
			m[kv.GetKey()] = v.GetStringValue()
		}
	}
	return m
}

// RunOTLP runs the binary with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a fake
// OTLP/gRPC collector (the App Runner and ADOT-sidecar set-up) and checks the
// spans it exports, including the final flush on SIGTERM.
func RunOTLP(t *testing.T, bin string) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the service binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &otlpCollector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	p := Start(t, bin, map[string]string{
		"OTEL_SERVICE_NAME":           ServiceName,
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String(),
		"OTEL_PROPAGATORS":            "xray,tracecontext",
		"OTEL_METRICS_EXPORTER":       "none",
		"O11Y_RESOURCE_DETECTION":     "false",
	})
	trace, parent := NewTraceID(), NewSpanID()
	hdr := map[string]string{"X-Amzn-Trace-Id": "Root=" + trace + ";Parent=" + parent + ";Sampled=1"}
	if st, _, _ := Do(t, "POST", p.BaseURL+"/checkout", hdr, `{"order_id":"77"}`); st != 200 {
		t.Errorf("checkout status %d", st)
	}
	boomTrace := NewTraceID()
	if st, _, _ := Do(t, "GET", p.BaseURL+"/boom", map[string]string{"X-Amzn-Trace-Id": "Root=" + boomTrace + ";Parent=" + NewSpanID() + ";Sampled=1"}, ""); st != 500 {
		t.Errorf("boom status %d", st)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, took := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after %v\nstderr:\n%s", code, took, p.Stderr())
	}
	ParseStdout(t, p.Stdout())

	w3c := func(x string) string { return strings.ReplaceAll(strings.TrimPrefix(x, "1-"), "-", "") }
	col.mu.Lock()
	defer col.mu.Unlock()
	var server, charge, boom *tracepb.Span
	for i, sp := range col.spans {
		if col.res[i]["service.name"] != ServiceName {
			t.Errorf("span %q: resource service.name %q", sp.GetName(), col.res[i]["service.name"])
		}
		tid := hex.EncodeToString(sp.GetTraceId())
		switch {
		case tid == w3c(trace) && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER:
			server = sp
		case tid == w3c(trace) && sp.GetName() == "charge-card":
			charge = sp
		case tid == w3c(boomTrace) && sp.GetKind() == tracepb.Span_SPAN_KIND_SERVER:
			boom = sp
		}
	}
	if server == nil || charge == nil || boom == nil {
		var names []string
		for _, sp := range col.spans {
			names = append(names, sp.GetName()+"@"+hex.EncodeToString(sp.GetTraceId()))
		}
		t.Fatalf("collector received %v; want the checkout server span, charge-card and the /boom server span", names)
	}
	if got := hex.EncodeToString(server.GetParentSpanId()); got != parent {
		t.Errorf("server span parent %s, want the caller's %s", got, parent)
	}
	if got := hex.EncodeToString(charge.GetParentSpanId()); got != hex.EncodeToString(server.GetSpanId()) {
		t.Errorf("charge-card parent %s, want the server span", got)
	}
	attrs := attrMap(charge.GetAttributes())
	if attrs["order_id"] != "77" || !strings.Contains(attrs["aws.xray.annotations"], "order_id") {
		t.Errorf("charge-card attributes %v: want order_id=77 listed in aws.xray.annotations (so the collector indexes it)", attrs)
	}
	if boom.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("/boom span status %v, want Error", boom.GetStatus())
	}
}

// RunSamplerOff runs the binary with OTEL_TRACES_SAMPLER=always_off: even
// callers that ask for sampling get no segments, while metrics still count
// every request and logs still carry the trace id.
func RunSamplerOff(t *testing.T, bin string) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the service binary")
	}
	daemon, err := segsink.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	p := Start(t, bin, map[string]string{
		"OTEL_SERVICE_NAME":       ServiceName,
		"AWS_XRAY_DAEMON_ADDRESS": daemon.Addr(),
		"OTEL_TRACES_SAMPLER":     "always_off",
		"AWS_EMF_NAMESPACE":       Namespace,
		"O11Y_RESOURCE_DETECTION": "false",
	})
	trace := NewTraceID()
	for i := 0; i < 3; i++ {
		hdr := map[string]string{"X-Amzn-Trace-Id": "Root=" + trace + ";Parent=" + NewSpanID() + ";Sampled=1"}
		if st, _, _ := Do(t, "POST", p.BaseURL+"/checkout", hdr, `{"order_id":"5"}`); st != 200 {
			t.Errorf("checkout status %d", st)
		}
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, p.Stderr())
	}
	time.Sleep(200 * time.Millisecond)
	if n := daemon.Datagrams(); n != 0 {
		t.Errorf("always_off sampler: the daemon received %d datagrams", n)
	}
	out := ParseStdout(t, p.Stdout())
	if got := RequestCounts(t, out.EMF, Namespace, ServiceName)["POST /checkout"]; got != 3 {
		t.Errorf("EMF count %d, want 3: unsampled requests must still be counted", got)
	}
	n := 0
	for _, l := range out.Logs {
		if l["msg"] == "access" && l["xray_trace_id"] == trace {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d access lines carry the caller's trace id, want 3", n)
	}
}
