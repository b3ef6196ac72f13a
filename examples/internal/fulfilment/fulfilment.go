// Package fulfilment is the examples' SQS leg: the orders service publishes
// an "order placed" message for each checkout (Publisher), and a
// long-running fulfilment worker (an ECS service, not a Lambda function)
// consumes it (Worker, Main). The trace crosses the queue: the producer's
// instrumented SendMessage carries X-Amzn-Trace-Id, SQS copies it into the
// message's AWSTraceHeader, and the worker's awsmw.StartConsumer span
// continues that trace as a child of the SendMessage subsegment, so X-Ray
// draws checkout → SQS queue → fulfilment. The request id travels as a
// message attribute (awsmw.WithRequestID) into the worker's log lines.
package fulfilment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/tracing"
)

// QueueURLEnv names the variable both processes read the queue's URL from.
const QueueURLEnv = "ORDERS_QUEUE_URL"

// EventOrderPlaced is the event field of the message POST /checkout sends.
const EventOrderPlaced = "order placed"

// OrderPlaced is the message body.
type OrderPlaced struct {
	Event   string `json:"event"`
	OrderID string `json:"order_id"`
}

// Publisher sends "order placed" messages (orders.OrderQueue).
type Publisher struct {
	client   *sqs.Client
	queueURL string
}

// NewPublisher returns a Publisher sending to queueURL with a client built
// from cfg, which it instruments (awsmw.Instrument with opts): every
// SendMessage is an X-Ray "aws" subsegment named SQS, and its trace header
// reaches the message.
func NewPublisher(cfg aws.Config, queueURL string, opts ...awsmw.Option) *Publisher {
	cfg = cfg.Copy()
	awsmw.Instrument(&cfg, opts...)
	return &Publisher{client: sqs.NewFromConfig(cfg), queueURL: queueURL}
}

// Publish sends one "order placed" message for orderID, with the request
// id of ctx as a message attribute.
func (p *Publisher) Publish(ctx context.Context, orderID string) error {
	body, _ := json.Marshal(OrderPlaced{Event: EventOrderPlaced, OrderID: orderID})
	_, err := p.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(p.queueURL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: awsmw.WithRequestID(ctx, nil),
	})
	return err
}

// LocalConfig is an aws.Config for a loopback fake endpoint (the demo's):
// static credentials, no retries' back-off worth waiting for.
func LocalConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Worker consumes the orders queue. Set the fields, then call Run.
type Worker struct {
	// Config builds the worker's SQS clients. The polling client is left
	// uninstrumented: a trace per empty long poll would only be noise.
	// Deletes and visibility changes are traced, inside each message's
	// CONSUMER span.
	Config   aws.Config
	QueueURL string
	// SDK is the worker's o11y handle; nil means o11y.Default().
	SDK *o11y.SDK
	// Handle does the work for one order; nil logs it as fulfilled. An
	// error leaves the message on the queue: it comes back after
	// RetryDelay, and SQS moves it to the dead-letter queue after the
	// redrive policy's maxReceiveCount.
	Handle func(ctx context.Context, order OrderPlaced) error
	// HandleTimeout bounds one message's handling, including after Run's
	// context ends (graceful shutdown). Default 4 s.
	HandleTimeout time.Duration
	// RetryDelay is when a failed message becomes visible again. Default 5 s.
	RetryDelay time.Duration
	// WaitTimeSeconds of each long poll (1–20). Default 20.
	WaitTimeSeconds int32

	received, fulfilled, failed, receiveErrors atomic.Int64
}

// Stats counts what the worker did.
type Stats struct {
	Received, Fulfilled, Failed, ReceiveErrors int64
}

// Stats returns the counts so far.
func (w *Worker) Stats() Stats {
	return Stats{Received: w.received.Load(), Fulfilled: w.fulfilled.Load(), Failed: w.failed.Load(), ReceiveErrors: w.receiveErrors.Load()}
}

// Operation is the EMF Operation (and the CONSUMER span's metrics name)
// the worker records for each message.
const Operation = "fulfil-order"

// Run polls the queue until ctx ends, handling messages one at a time.
// Receive errors are counted, logged and retried with a bounded back-off;
// they never stop the worker. When ctx ends, the poll in flight is
// cancelled, the message being handled finishes (within HandleTimeout),
// and the rest of the batch is released to other workers at once
// (visibility 0). Run then returns.
func (w *Worker) Run(ctx context.Context) {
	sdk := w.SDK
	if sdk == nil {
		sdk = o11y.Default()
	}
	recv := sqs.NewFromConfig(w.Config)
	cfg := w.Config.Copy()
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(sdk.TracerProvider()))
	client := sqs.NewFromConfig(cfg)
	wait := w.WaitTimeSeconds
	if wait <= 0 || wait > 20 {
		wait = 20
	}
	log := sdk.Logger()
	log.Info("fulfilment worker polling", "queue_url", w.QueueURL)

	backoff := time.Duration(0)
	for ctx.Err() == nil {
		out, err := recv.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(w.QueueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
			MessageAttributeNames:       []string{awsmw.RequestIDAttribute},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			w.receiveErrors.Add(1)
			backoff = min(max(2*backoff, 100*time.Millisecond), 20*time.Second)
			log.Warn("receive failed; retrying", "queue_url", w.QueueURL, "error", err.Error(), "retry_in", backoff.String())
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		for i, m := range out.Messages {
			if ctx.Err() != nil {
				w.release(recv, out.Messages[i:])
				break
			}
			w.received.Add(1)
			w.handle(ctx, sdk, client, m)
		}
	}
	log.Info("fulfilment worker stopped", "received", w.received.Load(), "fulfilled", w.fulfilled.Load(), "failed", w.failed.Load(), "receive_errors", w.receiveErrors.Load())
}

// handle processes one message inside its CONSUMER span.
func (w *Worker) handle(runCtx context.Context, sdk *o11y.SDK, client *sqs.Client, m sqstypes.Message) {
	timeout := w.HandleTimeout
	if timeout <= 0 {
		timeout = 4 * time.Second
	}
	// Shutdown does not cut a message short; HandleTimeout does.
	base, cancel := context.WithTimeout(context.WithoutCancel(runCtx), timeout)
	defer cancel()
	began := time.Now()
	ctx, span := awsmw.StartConsumer(base, m, awsmw.WithQueueURL(w.QueueURL), awsmw.WithConsumerTracerProvider(sdk.TracerProvider()))
	log := sdk.Logger()

	err := w.process(ctx, m)
	if err == nil {
		_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.QueueURL), ReceiptHandle: m.ReceiptHandle})
		if err != nil {
			err = fmt.Errorf("delete: %w", err)
		}
	}
	var flags metrics.Flags
	if err != nil {
		flags = metrics.FlagFault
		w.failed.Add(1)
		tracing.RecordError(ctx, err)
		log.ErrorContext(ctx, "order fulfilment failed", "message_id", aws.ToString(m.MessageId), "error", err.Error())
		retry := w.RetryDelay
		if retry <= 0 {
			retry = 5 * time.Second
		}
		if m.ReceiptHandle != nil {
			_, _ = client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(w.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(retry / time.Second),
			})
		}
	} else {
		w.fulfilled.Add(1)
	}
	span.End()
	sdk.Metrics().Operation(Operation).Observe(ctx, time.Since(began), flags)
}

// errBadMessage is a body that is not an "order placed" message.
var errBadMessage = errors.New("not an order placed message")

func (w *Worker) process(ctx context.Context, m sqstypes.Message) error {
	var order OrderPlaced
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &order); err != nil || order.Event != EventOrderPlaced || order.OrderID == "" {
		return errBadMessage
	}
	tracing.Annotate(ctx, "order_id", order.OrderID)
	if w.Handle != nil {
		return w.Handle(ctx, order)
	}
	sdkOf(w.SDK).Logger().InfoContext(ctx, "order fulfilled", "order_id", order.OrderID, "message_id", aws.ToString(m.MessageId))
	return nil
}

func sdkOf(s *o11y.SDK) *o11y.SDK {
	if s == nil {
		return o11y.Default()
	}
	return s
}

// ReleaseTimeout bounds giving back, at shutdown, the messages of a batch
// not handled yet.
const ReleaseTimeout = 2 * time.Second

// release makes messages received but not handled (shutdown) visible again
// at once, for another worker. It uses the polling client: outside any
// message's span, a traced call would only start a trace of its own.
func (w *Worker) release(client *sqs.Client, msgs []sqstypes.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), ReleaseTimeout)
	defer cancel()
	for _, m := range msgs {
		if m.ReceiptHandle == nil {
			continue
		}
		if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(w.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			sdkOf(w.SDK).Logger().Warn("release failed; the message reappears after its visibility timeout", "message_id", aws.ToString(m.MessageId), "error", err.Error())
		}
	}
}
