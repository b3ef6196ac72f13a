package fulfilment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/o11ytest"
)

// waitFor polls cond (bounded) and reports whether it held.
func waitFor(cond func() bool) bool {
	for i := 0; i < 400; i++ {
		if cond() {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return cond()
}

// TestWorker runs the worker in process against the fake SQS: an order is
// fulfilled and deleted; a bad message and a failing handler are logged and
// counted, and their messages stay on the queue; Run returns when its
// context ends.
func TestWorker(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	f := awsfake.New(t)
	f.MaxWait = time.Second
	url := f.QueueURL("orders")
	pub := NewPublisher(LocalConfig(f.URL), url)
	ctx := context.Background()
	for _, id := range []string{"1", "fail"} {
		if err := pub.Publish(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqsSendRaw(f, url, "not json"); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Config: LocalConfig(f.URL), QueueURL: url, SDK: sdk, WaitTimeSeconds: 1, RetryDelay: time.Hour,
		Handle: func(ctx context.Context, o OrderPlaced) error {
			if o.OrderID == "fail" {
				return errors.New("warehouse offline")
			}
			sdk.Logger().InfoContext(ctx, "order fulfilled", "order_id", o.OrderID)
			return nil
		}}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(runCtx) }()
	if !waitFor(func() bool { s := w.Stats(); return s.Fulfilled+s.Failed == 3 }) {
		t.Fatalf("stats %+v, want 3 messages handled", w.Stats())
	}
	cancel()
	<-done
	if s := w.Stats(); s.Fulfilled != 1 || s.Failed != 2 || s.ReceiveErrors != 0 {
		t.Errorf("stats %+v, want 1 fulfilled, 2 failed", s)
	}
	deleted := 0
	for _, m := range f.Messages(url) {
		if m.Deleted {
			deleted++
			if !strings.Contains(m.Body, `"order_id":"1"`) {
				t.Errorf("deleted %s, want only the fulfilled order", m.Body)
			}
		}
	}
	if deleted != 1 {
		t.Errorf("%d messages deleted, want 1", deleted)
	}
	failed := 0
	for _, l := range rec.Logs() {
		if l["msg"] == "order fulfilment failed" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d failure log lines, want 2", failed)
	}
	// One CONSUMER span per message; the published ones continue the
	// producer's (here: untraced, so new) trace, the Delete is its child.
	consumers, deletes := 0, 0
	for _, s := range rec.Spans() {
		switch {
		case s.SpanKind == trace.SpanKindConsumer:
			consumers++
			if s.Name != "orders process" {
				t.Errorf("consumer span %q", s.Name)
			}
		case s.Name == "SQS.DeleteMessage" || strings.HasSuffix(s.Name, "DeleteMessage"):
			deletes++
			if !s.Parent.IsValid() {
				t.Errorf("DeleteMessage span without a parent: it belongs in the message's span")
			}
		}
	}
	if consumers != 3 || deletes != 1 {
		t.Errorf("%d consumer spans, %d DeleteMessage spans; want 3 and 1", consumers, deletes)
	}
}

// TestWorkerReceiveErrors: a queue that does not exist is a receive error,
// counted and logged, never fatal; Run still returns when asked.
func TestWorkerReceiveErrors(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	f := awsfake.New(t)
	w := &Worker{Config: LocalConfig(f.URL), QueueURL: f.QueueURL("missing"), SDK: sdk, WaitTimeSeconds: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	if !waitFor(func() bool { return w.Stats().ReceiveErrors >= 2 }) {
		t.Fatalf("stats %+v, want receive errors counted", w.Stats())
	}
	cancel()
	<-done
	n := 0
	for _, l := range rec.Logs() {
		if l["msg"] == "receive failed; retrying" {
			n++
		}
	}
	if n < 2 {
		t.Errorf("%d receive-error log lines, want ≥ 2", n)
	}
}

// sqsSendRaw sends a message body as-is (not through Publisher).
func sqsSendRaw(f *awsfake.Server, url, body string) (*sqs.SendMessageOutput, error) {
	return sqs.NewFromConfig(LocalConfig(f.URL)).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
}
