package awsmw_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// TestSQSBatchHandOff: SendMessageBatch sends one X-Amzn-Trace-Id header
// for the whole call, and SQS copies it into every entry's AWSTraceHeader
// (X-Ray developer guide, "Amazon SQS and AWS X-Ray"). Each received
// message's CONSUMER span is then a child of the SendMessageBatch call, in
// the producer's trace, with the request id of the producer's request.
// An entry that sets its own AWSTraceHeader system attribute keeps it.
func TestSQSBatchHandOff(t *testing.T) {
	f := awsfake.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithIDGenerator(tracing.NewIDGenerator()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp))
	client := sqs.NewFromConfig(cfg)
	url := f.QueueURL("batch")

	ctx := reqstate.With(context.Background(), &reqstate.State{RequestID: "req-batch"})
	ctx, server := tp.Tracer("test").Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	const own = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	entries := make([]sqstypes.SendMessageBatchRequestEntry, 3)
	for i := range entries {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{
			Id:                aws.String(fmt.Sprint("e", i)),
			MessageBody:       aws.String(fmt.Sprintf(`{"order_id":"%d"}`, i)),
			MessageAttributes: awsmw.WithRequestID(ctx, nil),
		}
	}
	entries[2].MessageSystemAttributes = map[string]sqstypes.MessageSystemAttributeValue{
		"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(own)},
	}
	out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	require.NoError(t, err)
	require.Len(t, out.Successful, 3)
	assert.Empty(t, out.Failed)
	server.End()

	var batch sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			batch = s
		}
	}
	require.NotNil(t, batch)
	doc := decode(t, xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, batch))
	assert.Equal(t, "SQS", doc["name"])
	aws_, _ := doc["aws"].(map[string]any)
	assert.Equal(t, "SendMessageBatch", aws_["operation"])
	assert.Equal(t, url, aws_["queue_url"])

	want := "Root=" + xrayTraceID(batch.SpanContext().TraceID()) + ";Parent=" + batch.SpanContext().SpanID().String() + ";Sampled=1"
	msgs := f.Messages(url)
	require.Len(t, msgs, 3)
	assert.Equal(t, want, msgs[0].TraceHeader, "every entry carries the call's header")
	assert.Equal(t, want, msgs[1].TraceHeader)
	assert.Equal(t, own, msgs[2].TraceHeader, "an entry's own AWSTraceHeader wins")

	recv, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
		MessageAttributeNames:       []string{awsmw.RequestIDAttribute},
	})
	require.NoError(t, err)
	require.Len(t, recv.Messages, 3)
	for _, m := range recv.Messages[:2] {
		wctx, span := awsmw.StartConsumer(context.Background(), m, awsmw.WithConsumerTracerProvider(tp), awsmw.WithQueueURL(url))
		span.End()
		assert.Equal(t, "req-batch", reqstate.RequestID(wctx))
		sc := trace.SpanContextFromContext(wctx)
		assert.Equal(t, batch.SpanContext().TraceID(), sc.TraceID(), "the producer's trace")
		var consumer sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.SpanContext().SpanID() == sc.SpanID() {
				consumer = s
			}
		}
		require.NotNil(t, consumer)
		assert.Equal(t, batch.SpanContext().SpanID(), consumer.Parent().SpanID(), "child of SendMessageBatch")
	}
}

// TestFakeSQSVisibility drives the fake SQS's queue semantics with a real
// client: a received message is hidden until deleted or until its
// visibility timeout passes (then redelivered with a new receipt handle and
// a higher receive count); ChangeMessageVisibility moves that moment; a
// stale receipt handle is refused; a long poll returns when a message
// arrives; a queue that does not exist is an error.
func TestFakeSQSVisibility(t *testing.T) {
	f := awsfake.New(t)
	var now atomic.Int64 // the fake's clock, moved by the test between calls
	now.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	f.Clock = func() time.Time { return time.Unix(0, now.Load()) }
	cfg := testConfig(f.URL)
	client := sqs.NewFromConfig(cfg)
	url := f.QueueURL("work")
	ctx := context.Background()
	receive := func(wait int32) []sqstypes.Message {
		t.Helper()
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), WaitTimeSeconds: wait, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		require.NoError(t, err)
		return out.Messages
	}

	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("a")})
	require.NoError(t, err)
	first := receive(0)
	require.Len(t, first, 1)
	assert.Equal(t, "1", first[0].Attributes["ApproximateReceiveCount"])
	assert.NotContains(t, first[0].Attributes, "AWSTraceHeader", "not asked for")
	assert.Empty(t, receive(0), "hidden while in flight")

	now.Add(int64(awsfake.DefaultVisibility))
	again := receive(0)
	require.Len(t, again, 1, "redelivered after the visibility timeout")
	assert.Equal(t, "2", again[0].Attributes["ApproximateReceiveCount"])
	assert.NotEqual(t, *first[0].ReceiptHandle, *again[0].ReceiptHandle)

	_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle})
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr, "the first receipt handle is stale")
	assert.Equal(t, "ReceiptHandleIsInvalid", apiErr.ErrorCode())

	_, err = client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: again[0].ReceiptHandle, VisibilityTimeout: 0})
	require.NoError(t, err)
	third := receive(0)
	require.Len(t, third, 1, "visible again at once")
	_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: third[0].ReceiptHandle})
	require.NoError(t, err)
	now.Add(int64(time.Hour))
	assert.Empty(t, receive(0), "deleted for good")
	assert.True(t, f.Messages(url)[0].Deleted)

	// Long poll: a send from another goroutine ends it (no timing: the
	// poll waits up to 20 s, the send happens as soon as the poll is
	// parked or before).
	go func() {
		_, _ = sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("b")})
	}()
	var got []sqstypes.Message
	for i := 0; i < 10 && len(got) == 0; i++ { // each poll ends with the message or after 20 s
		got = receive(20)
	}
	require.Len(t, got, 1)
	assert.Equal(t, "b", *got[0].Body)

	_, err = client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.QueueURL("missing")), MessageBody: aws.String("x")})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "AWS.SimpleQueueService.NonExistentQueue", apiErr.ErrorCode(), "the query-compatible code, as real SQS answers")
}
