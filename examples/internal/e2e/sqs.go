package e2e

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/o11y-go/o11y/examples/internal/fulfilment"
	"github.com/o11y-go/o11y/examples/internal/segsink"
	"github.com/o11y-go/o11y/internal/awsfake"
)

// WorkerServiceName is the fulfilment worker's OTEL_SERVICE_NAME in the
// SQS scenario.
const WorkerServiceName = "fulfilment-e2e"

// RunSQS is the end-to-end test of the SQS leg: the orders service binary
// ordersBin (POST /checkout publishes "order placed") and the fulfilment
// worker binary workerBin, real processes on loopback, with a fake SQS
// endpoint (internal/awsfake) and a stand-in X-Ray daemon (segsink). It
// checks that the worker's segment continues the checkout's trace as a
// child of the SendMessage subsegment (an "aws" SQS node with operation and
// queue_url), that the worker's log lines carry the checkout's request id
// and trace id, that a bad message is logged and counted without stopping
// the worker, and that both processes stop cleanly on SIGTERM.
// No timing assertions: every wait is a bounded wait on a count.
func RunSQS(t *testing.T, ordersBin, workerBin string) {
	if testing.Short() {
		t.Skip("end-to-end test: runs the service binaries")
	}
	daemon, err := segsink.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	sqs := awsfake.New(t)
	queueURL := sqs.QueueURL("orders")

	env := func(service string) map[string]string {
		return map[string]string{
			"OTEL_SERVICE_NAME":       service,
			"AWS_XRAY_DAEMON_ADDRESS": daemon.Addr(),
			"OTEL_TRACES_SAMPLER":     "parentbased_always_on",
			"AWS_EMF_NAMESPACE":       Namespace,
			"O11Y_RESOURCE_DETECTION": "false",
			fulfilment.QueueURLEnv:    queueURL,
			// The AWS SDK's own variables: region, static credentials (the
			// task role's, on ECS), and the local endpoint.
			"AWS_REGION":                "eu-west-1",
			"AWS_ACCESS_KEY_ID":         "AKIDE2E",
			"AWS_SECRET_ACCESS_KEY":     "e2e",
			"AWS_ENDPOINT_URL_SQS":      sqs.URL,
			"AWS_EC2_METADATA_DISABLED": "true",
		}
	}
	began := time.Now()
	checkout := Start(t, ordersBin, env(ServiceName))
	worker := Start(t, workerBin, env(WorkerServiceName))

	// A message that is not an order: the worker logs and counts it, and
	// goes on (it comes back after the retry delay until shutdown).
	if code, _, body := Do(t, "POST", sqs.URL, map[string]string{
		"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0",
	}, `{"QueueUrl":"`+queueURL+`","MessageBody":"not json"}`); code != 200 {
		t.Fatalf("fake SQS SendMessage: %d %s", code, body)
	}

	trace, parent := NewTraceID(), NewSpanID()
	const requestID = "req-sqs-e2e-1"
	code, hdr, body := Do(t, "POST", checkout.BaseURL+"/checkout", map[string]string{
		"X-Amzn-Trace-Id": "Root=" + trace + ";Parent=" + parent + ";Sampled=1",
		"X-Request-Id":    requestID,
		"Content-Type":    "application/json",
	}, `{"order_id":"2001"}`)
	if code != 200 {
		t.Fatalf("POST /checkout: %d %s\nstderr:\n%s", code, body, checkout.Stderr())
	}
	if got := RootOf(hdr.Get("X-Amzn-Trace-Id")); got != trace {
		t.Errorf("checkout answered trace %s, want %s", got, trace)
	}

	// Wait (bounded) until the order message is deleted: the worker
	// handled it.
	deleted := func() bool {
		for _, m := range sqs.Messages(queueURL) {
			if strings.Contains(m.Body, `"2001"`) {
				return m.Deleted
			}
		}
		return false
	}
	for i := 0; i < 600 && !deleted(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !deleted() {
		t.Fatalf("the worker never deleted the order message: %+v\nworker stderr:\n%s\nworker stdout:\n%s", sqs.Messages(queueURL), worker.Stderr(), worker.Stdout())
	}
	t.Logf("order handled %v after start", time.Since(began).Round(time.Millisecond))
	var orderMsg awsfake.SQSMessage
	for _, m := range sqs.Messages(queueURL) {
		if strings.Contains(m.Body, `"2001"`) {
			orderMsg = m
		}
	}
	if !strings.HasPrefix(orderMsg.TraceHeader, "Root="+trace+";") {
		t.Errorf("message AWSTraceHeader %q, want the checkout's trace %s", orderMsg.TraceHeader, trace)
	}

	// Both stop on SIGTERM, within their budgets.
	for _, p := range []*Process{checkout, worker} {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range map[string]*Process{"checkout": checkout, "worker": worker} {
		code, took := p.Wait(15 * time.Second)
		if code != 0 {
			t.Errorf("%s: exit code %d %v after SIGTERM\nstderr:\n%s", name, code, took, p.Stderr())
		}
		t.Logf("%s exited %d %v after SIGTERM", name, code, took.Round(time.Millisecond))
	}

	// --- Segments: checkout → SQS SendMessage → worker, one trace.
	var send, seg, del *segsink.Segment
	find := func(segs []segsink.Segment) bool {
		send, seg, del = nil, nil, nil
		for i := range segs {
			s := &segs[i]
			if s.TraceID != trace {
				continue
			}
			switch {
			case s.IsSubsegment() && s.Name == "SQS" && awsOp(s) == "SendMessage":
				send = s
			case !s.IsSubsegment() && s.Name == WorkerServiceName:
				seg = s
			case s.IsSubsegment() && s.Name == "SQS" && awsOp(s) == "DeleteMessage":
				del = s
			}
		}
		return send != nil && seg != nil && del != nil
	}
	if !daemon.WaitFor(10*time.Second, find) {
		dumpSegments(t, daemon.Segments())
		t.Fatalf("trace %s: SendMessage subsegment %v, worker segment %v, DeleteMessage subsegment %v", trace, send != nil, seg != nil, del != nil)
	}
	ValidateSegments(t, "sqs", daemon)
	if send.Namespace != "aws" {
		t.Errorf("SendMessage subsegment namespace %q, want aws", send.Namespace)
	}
	if got := awsField(send, "queue_url"); got != queueURL {
		t.Errorf("SendMessage subsegment aws.queue_url %q, want %s", got, queueURL)
	}
	if seg.ParentID != send.ID {
		t.Errorf("worker segment parent_id %s, want the SendMessage subsegment %s (awsmw.StartConsumer: child of the producer's call)", seg.ParentID, send.ID)
	}
	if del.ParentID != seg.ID {
		t.Errorf("DeleteMessage subsegment parent %s, want the worker segment %s", del.ParentID, seg.ID)
	}
	if seg.Annotations["order_id"] != "2001" {
		t.Errorf("worker segment annotations %v, want order_id 2001", seg.Annotations)
	}

	// --- Worker logs: the checkout's request id and trace id.
	out := ParseStdout(t, worker.Stdout())
	found, failed := false, false
	for _, l := range out.Logs {
		switch l["msg"] {
		case "order fulfilled":
			found = true
			if l["request_id"] != requestID || l["xray_trace_id"] != trace || l["order_id"] != "2001" {
				t.Errorf("worker log line %v: want request_id %s, xray_trace_id %s, order_id 2001", l, requestID, trace)
			}
		case "order fulfilment failed":
			failed = true
		}
	}
	if !found {
		t.Errorf("no \"order fulfilled\" line on the worker's stdout:\n%s", worker.Stdout())
	}
	if !failed {
		t.Errorf("the bad message was not logged as failed:\n%s", worker.Stdout())
	}
	// --- Worker metrics: each handled message counted under the
	// fulfil-order operation, the bad one as a fault.
	if n := RequestCounts(t, out.EMF, Namespace, WorkerServiceName)[fulfilment.Operation]; n < 2 {
		t.Errorf("EMF count for %s = %d, want ≥ 2 (the order and the bad message)", fulfilment.Operation, n)
	}
	faults := 0.0
	for _, d := range out.EMF {
		if HasDimensionSet(d, Namespace, "Fault", "Service") && d.Members["Service"] == WorkerServiceName {
			faults += MetricSum(t, d.Members["Fault"])
		}
	}
	if faults < 1 {
		t.Errorf("worker Fault sum %v, want ≥ 1 (the bad message)", faults)
	}
	if t.Failed() {
		t.Logf("worker stdout:\n%s\nworker stderr:\n%s\ncheckout stderr:\n%s", worker.Stdout(), worker.Stderr(), checkout.Stderr())
	}
}

// awsOp is the aws.operation of a subsegment.
func awsOp(s *segsink.Segment) string { return awsField(s, "operation") }

func awsField(s *segsink.Segment, name string) string {
	var doc struct {
		AWS map[string]any `json:"aws"`
	}
	_ = json.Unmarshal(s.Raw, &doc)
	v, _ := doc.AWS[name].(string)
	return v
}
