package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/o11y-go/o11y/examples/internal/segsink"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
)

// request is one request the scenario sends.
type request struct {
	name   string
	method string
	path   string
	hdr    map[string]string
	body   string
	status int
	// op is the Operation it must be counted under ("" = never counted).
	op string
	// trace is the trace id the request must end up in ("" = unknown
	// before sending; taken from the response's X-Amzn-Trace-Id).
	trace string
	// sampled: a segment must exist (true) or must not (false).
	sampled bool
	// parent is the Parent= the caller sent (the segment's parent_id).
	parent string

	gotTrace string
}

// RunOrders is the end-to-end test of the orders service binary bin (see
// [Build]). See the package documentation.
func RunOrders(t *testing.T, bin string) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the service binary")
	}
	daemon, err := segsink.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	down := NewDownstream(t)

	p := Start(t, bin, map[string]string{
		"OTEL_SERVICE_NAME":       ServiceName,
		"AWS_XRAY_DAEMON_ADDRESS": daemon.Addr(),
		"DOWNSTREAM_URL":          down.URL,
		// Parent-based always-on: Sampled=0 is honoured, a missing or
		// undecided caller decision starts a sampled trace.
		"OTEL_TRACES_SAMPLER":     "parentbased_always_on",
		"AWS_EMF_NAMESPACE":       Namespace,
		"O11Y_RESOURCE_DETECTION": "false",
	})

	t1, p1 := NewTraceID(), NewSpanID()
	t2, p2 := NewTraceID(), NewSpanID()
	tALB := NewTraceID()
	tOff, pOff := NewTraceID(), NewSpanID()
	const (
		opOrder    = "GET /orders/{id}"
		opCheckout = "POST /checkout"
		opBoom     = "GET /boom"
		opUnknown  = "GET unknown_route"
	)
	reqs := []*request{
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "healthz ELB", method: "GET", path: "/healthz", hdr: map[string]string{"User-Agent": "ELB-HealthChecker/2.0"}, status: 200},
		{name: "order", method: "GET", path: "/orders/42", status: 200, op: opOrder, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Root=" + t1 + ";Parent=" + p1 + ";Sampled=1"}, trace: t1, parent: p1},
		{name: "order not found", method: "GET", path: "/orders/abc", status: 404, op: opOrder, sampled: true},
		{name: "checkout", method: "POST", path: "/checkout", body: `{"order_id":"1001"}`, status: 200, op: opCheckout, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Root=" + t2 + ";Parent=" + p2 + ";Sampled=1"}, trace: t2, parent: p2},
		// ALB adds Self= and Root= but no Parent and no decision: the trace
		// id must be kept, the local sampler decides.
		{name: "checkout ALB root-only", method: "POST", path: "/checkout", body: `{"order_id":"1002"}`, status: 200, op: opCheckout, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Self=" + NewTraceID() + ";Root=" + tALB}, trace: tALB},
		{name: "checkout unsampled", method: "POST", path: "/checkout", body: `{"order_id":"1003"}`, status: 200, op: opCheckout, sampled: false,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Root=" + tOff + ";Parent=" + pOff + ";Sampled=0"}, trace: tOff},
		{name: "checkout downstream fails", method: "POST", path: "/checkout", body: `{"order_id":"fail"}`, status: 502, op: opCheckout, sampled: true},
		{name: "malformed root", method: "GET", path: "/orders/7", status: 200, op: opOrder, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Root=1-zzzz-nothex;Parent=xyz;Sampled=1"}},
		{name: "malformed garbage", method: "GET", path: "/orders/8", status: 200, op: opOrder, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": ";;==;Root;Sampled=maybe;Parent=;Root=1-5759e988", "Traceparent": "00-not-a-trace-01"}},
		{name: "malformed zero ids", method: "GET", path: "/orders/9", status: 200, op: opOrder, sampled: true,
			hdr: map[string]string{"X-Amzn-Trace-Id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=1"}},
		{name: "boom", method: "GET", path: "/boom", status: 500, op: opBoom, sampled: true},
		{name: "unknown route", method: "GET", path: "/no/such/thing", status: 404, op: opUnknown, sampled: true},
	}

	for _, r := range reqs {
		status, h, body := Do(t, r.method, p.BaseURL+r.path, r.hdr, r.body)
		if status != r.status {
			t.Errorf("%s: status %d, want %d (body %s)", r.name, status, r.status, body)
		}
		if r.op == "" {
			continue
		}
		got := RootOf(h.Get("X-Amzn-Trace-Id"))
		if !xrayvalidate.IsTraceID(got) {
			t.Errorf("%s: response X-Amzn-Trace-Id %q has no valid Root", r.name, h.Get("X-Amzn-Trace-Id"))
		}
		if r.trace != "" && got != r.trace {
			t.Errorf("%s: response trace id %s, want the caller's %s", r.name, got, r.trace)
		}
		r.gotTrace = got
		if r.path == "/orders/42" {
			var o struct{ ID string }
			if json.Unmarshal(body, &o) != nil || o.ID != "42" {
				t.Errorf("GET /orders/42 body %s", body)
			}
		}
	}

	// The container health-check mode of the same binary.
	if code := p.Probe(t); code != 0 {
		t.Errorf("%s -healthcheck against the running service exited %d, want 0", bin, code)
	}

	// A checkout still in flight when SIGTERM arrives must complete.
	slow := &request{name: "checkout in flight at SIGTERM", method: "POST", path: "/checkout", body: `{"order_id":"slow"}`, status: 200, op: opCheckout, sampled: true}
	type result struct {
		status int
		hdr    http.Header
		err    error
	}
	slowDone := make(chan result, 1)
	go func() {
		status, h, _, err := Send(slow.method, p.BaseURL+slow.path, nil, slow.body)
		slowDone <- result{status, h, err}
	}()
	select {
	case <-down.SlowStarted:
	case <-time.After(5 * time.Second):
		t.Fatal("slow checkout never reached the downstream")
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once the listener is closed (probed on
	// /healthz, which is never counted, so a late acceptance cannot skew
	// the request counts).
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
		resp, err := c.Get(p.BaseURL + "/healthz")
		if err != nil {
			refused = true
			break
		}
		resp.Body.Close()
	}
	if !refused {
		t.Errorf("service still accepts new connections 5 s after SIGTERM")
	}
	code, took := p.Wait(10 * time.Second)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM (after %v)\nstderr:\n%s", code, took, p.Stderr())
	}
	select {
	case res := <-slowDone:
		if res.err != nil || res.status != slow.status {
			t.Errorf("in-flight checkout: status %d (%v), want %d", res.status, res.err, slow.status)
		} else {
			slow.gotTrace = RootOf(res.hdr.Get("X-Amzn-Trace-Id"))
		}
	case <-time.After(2 * time.Second):
		t.Error("in-flight checkout never completed")
	}
	reqs = append(reqs, slow)
	if code := p.Probe(t); code != 1 {
		t.Errorf("-healthcheck after the service stopped exited %d, want 1", code)
	}
	t.Logf("exited 0 %v after SIGTERM", took.Round(time.Millisecond))

	out := ParseStdout(t, p.Stdout())
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", p.Stdout(), p.Stderr())
	}

	// --- Metrics: exact request counts per operation, /healthz absent.
	want := map[string]int{}
	for _, r := range reqs {
		if r.op != "" {
			want[r.op]++
		}
	}
	got := RequestCounts(t, out.EMF, Namespace, ServiceName)
	for op, n := range want {
		if got[op] != n {
			t.Errorf("EMF request count for %q = %d, want %d", op, got[op], n)
		}
	}
	for op := range got {
		if _, ok := want[op]; !ok {
			t.Errorf("EMF has unexpected operation %q (counts %v)", op, got)
		}
	}
	for _, line := range out.EMFLines {
		if strings.Contains(string(line), "healthz") {
			t.Errorf("health checks reached the metrics: %s", line)
		}
	}
	// The [Service] set, the one the deployment alarm watches, carries Fault.
	faults := 0.0
	serviceSet := false
	for _, d := range out.EMF {
		if HasDimensionSet(d, Namespace, "Fault", "Service") {
			serviceSet = true
			faults += MetricSum(t, d.Members["Fault"])
		}
	}
	if !serviceSet {
		t.Errorf("no EMF document has the dimension set [Service] with Fault (the alarm's metric)")
	}
	if faults != 2 { // /boom and the 502
		t.Errorf("Fault sum over [Service] = %v, want 2", faults)
	}

	// --- Logs: one access line per counted request, none for /healthz.
	access := map[string]map[string]any{} // xray trace id -> access line
	for _, l := range out.Logs {
		if l["msg"] != "access" {
			continue
		}
		if p, _ := l["path"].(string); strings.Contains(p, "healthz") {
			t.Errorf("health check was access-logged: %v", l)
		}
		if id, _ := l["xray_trace_id"].(string); id != "" {
			access[id] = l
		}
	}

	// --- Segments.
	segsReady := func(segs []segsink.Segment) bool {
		byTrace := segsink.ByTrace(segs)
		for _, r := range reqs {
			if r.sampled && r.gotTrace != "" && len(byTrace[r.gotTrace]) == 0 {
				return false
			}
		}
		return true
	}
	if !daemon.WaitFor(3*time.Second, segsReady) {
		t.Errorf("not every sampled request produced a segment")
	}
	ValidateSegments(t, "service", daemon)
	segs := daemon.Segments()
	for _, s := range segs {
		if strings.Contains(s.HTTP.URL, "healthz") {
			t.Errorf("health check was traced: %s", s.Raw)
		}
	}
	byTrace := segsink.ByTrace(segs)
	downByTrace := segsink.ByTrace(down.Sink.Segments())

	for _, r := range reqs {
		if r.op == "" || r.gotTrace == "" {
			continue
		}
		server := serverSegment(byTrace[r.gotTrace])
		if !r.sampled {
			if len(byTrace[r.gotTrace]) != 0 || len(downByTrace[r.gotTrace]) != 0 {
				t.Errorf("%s: Sampled=0 request produced segments", r.name)
			}
		} else if server == nil {
			t.Errorf("%s: no segment for trace %s", r.name, r.gotTrace)
		} else {
			if server.Name != ServiceName {
				t.Errorf("%s: segment name %q, want %q", r.name, server.Name, ServiceName)
			}
			if server.ParentID != r.parent {
				t.Errorf("%s: segment parent_id %q, want %q", r.name, server.ParentID, r.parent)
			}
			if server.HTTP.Status != r.status {
				t.Errorf("%s: segment http.response.status %d, want %d", r.name, server.HTTP.Status, r.status)
			}
			if wantFault := r.status >= 500; server.Fault != wantFault {
				t.Errorf("%s: segment fault=%v, want %v", r.name, server.Fault, wantFault)
			}
			if wantErr := r.status >= 400 && r.status < 500; server.Error != wantErr {
				t.Errorf("%s: segment error=%v, want %v", r.name, server.Error, wantErr)
			}
		}
		// The access line carries the same trace id (logs ↔ traces).
		line, ok := access[r.gotTrace]
		if !ok {
			t.Errorf("%s: no access log line with xray_trace_id %s", r.name, r.gotTrace)
			continue
		}
		if st, _ := line["status"].(float64); int(st) != r.status {
			t.Errorf("%s: access line status %v, want %d", r.name, line["status"], r.status)
		}
		if server != nil {
			if w3c, _ := line["trace_id"].(string); w3c != strings.ReplaceAll(strings.TrimPrefix(r.gotTrace, "1-"), "-", "") {
				t.Errorf("%s: access line trace_id %q does not match %s", r.name, w3c, r.gotTrace)
			}
		}
	}

	// Malformed headers start fresh, valid traces (never the zero id).
	for _, r := range reqs {
		if strings.HasPrefix(r.name, "malformed") && (r.gotTrace == "1-00000000-000000000000000000000000" || strings.Contains(r.gotTrace, "zz")) {
			t.Errorf("%s: trace id %q taken from a malformed header", r.name, r.gotTrace)
		}
	}

	// POST /checkout: charge-card subsegment annotated with order_id, a
	// client subsegment, and the aws-xray-sdk-go downstream segment
	// parented to that client subsegment.
	checkCheckout(t, byTrace[t2], downByTrace[t2], t2, "1001")
	checkCheckout(t, byTrace[tALB], downByTrace[tALB], tALB, "1002")
	logsHave(t, out.Logs, t2, "card charged", "1001")

	// EMF exemplars point at real traces: the fault exemplar of GET /boom
	// is the /boom request's trace, seen in the segment and the access log.
	var boom *request
	for _, r := range reqs {
		if r.op == opBoom {
			boom = r
		}
	}
	foundExemplar := false
	for _, d := range out.EMF {
		if d.Members["Operation"] != opBoom {
			continue
		}
		if ex, ok := d.Members["fault_xray_trace_id"].(string); ok {
			foundExemplar = true
			if ex != boom.gotTrace {
				t.Errorf("GET /boom fault exemplar %s, want the request's trace %s", ex, boom.gotTrace)
			}
		}
	}
	if !foundExemplar {
		t.Errorf("no fault_xray_trace_id exemplar on the GET /boom metrics")
	}
	if s := serverSegment(byTrace[boom.gotTrace]); s != nil && !s.Fault {
		t.Errorf("/boom segment has no fault")
	}
	for _, d := range out.EMF {
		if ex, ok := d.Members["slowest_xray_trace_id"].(string); ok {
			if _, seen := access[ex]; !seen {
				t.Errorf("slowest_xray_trace_id %s of %v matches no logged request", ex, d.Members["Operation"])
			}
		}
	}
	if t.Failed() {
		dumpSegments(t, segs)
	}
}

func serverSegment(segs []segsink.Segment) *segsink.Segment {
	for i := range segs {
		if !segs[i].IsSubsegment() {
			return &segs[i]
		}
	}
	return nil
}

func checkCheckout(t *testing.T, ours, theirs []segsink.Segment, trace, orderID string) {
	t.Helper()
	server := serverSegment(ours)
	if server == nil {
		t.Errorf("checkout %s: no server segment", trace)
		return
	}
	var charge, client *segsink.Segment
	for i := range ours {
		s := &ours[i]
		switch {
		case s.Name == "charge-card":
			charge = s
		case s.IsSubsegment() && s.Namespace == "remote":
			client = s
		}
	}
	if charge == nil {
		t.Errorf("checkout %s: no charge-card subsegment", trace)
	} else {
		if charge.ParentID != server.ID {
			t.Errorf("checkout %s: charge-card parent_id %s, want the segment %s", trace, charge.ParentID, server.ID)
		}
		if v, ok := charge.Annotations["order_id"]; !ok || fmt.Sprint(v) != orderID {
			t.Errorf("checkout %s: charge-card annotations %v, want order_id=%s", trace, charge.Annotations, orderID)
		}
	}
	if client == nil {
		t.Errorf("checkout %s: no client (namespace remote) subsegment for the downstream call", trace)
		return
	}
	var down *segsink.Segment
	for i := range theirs {
		if !theirs[i].IsSubsegment() {
			down = &theirs[i]
		}
	}
	if down == nil {
		t.Errorf("checkout %s: the aws-xray-sdk-go downstream sent no segment for this trace", trace)
		return
	}
	if down.Name != DownstreamName {
		t.Errorf("downstream segment name %q", down.Name)
	}
	if down.ParentID != client.ID {
		t.Errorf("checkout %s: downstream segment parent_id %s, want our client subsegment id %s", trace, down.ParentID, client.ID)
	}
}

// logsHave checks that an application log line with msg carries the trace
// id and the order id.
func logsHave(t *testing.T, logs []map[string]any, trace, msg, orderID string) {
	t.Helper()
	for _, l := range logs {
		if l["msg"] == msg && l["xray_trace_id"] == trace {
			if l["order_id"] != orderID {
				t.Errorf("%q line order_id %v, want %s", msg, l["order_id"], orderID)
			}
			if l["request_id"] == nil || l["request_id"] == "" {
				t.Errorf("%q line has no request_id: %v", msg, l)
			}
			return
		}
	}
	t.Errorf("no %q log line with xray_trace_id %s on stdout", msg, trace)
}

func dumpSegments(t *testing.T, segs []segsink.Segment) {
	for _, s := range segs {
		t.Logf("segment %s", s.Raw)
	}
}
