package awsmw_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// TestSQSHandOff sends a message under a request (as POST /checkout would),
// receives it as a worker, and checks that the worker's CONSUMER span
// continues the producer's trace under the SendMessage call, and that the
// request id reached the worker's context. Both sides use real SDK calls
// against the fake SQS, which copies X-Amzn-Trace-Id into AWSTraceHeader as
// SQS does.
func TestSQSHandOff(t *testing.T) {
	f := awsfake.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec),
		sdktrace.WithIDGenerator(tracing.NewIDGenerator()),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp))
	client := sqs.NewFromConfig(cfg)

	// Producer: a request with a request id.
	ctx := reqstate.With(context.Background(), &reqstate.State{RequestID: "req-42"})
	ctx, server := tp.Tracer("test").Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(queueURL),
		MessageBody:       aws.String(`{"order":"o-1"}`),
		MessageAttributes: awsmw.WithRequestID(ctx, nil),
	})
	require.NoError(t, err)
	server.End()
	var send sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			send = s
		}
	}
	require.NotNil(t, send)
	th := f.LastHeader().Get("X-Amzn-Trace-Id")
	assert.Equal(t, "Root="+xrayTraceID(send.SpanContext().TraceID())+";Parent="+send.SpanContext().SpanID().String()+";Sampled=1", th,
		"SendMessage carries the X-Ray header naming the SendMessage call as parent")

	// Worker: receive with the trace header and the attributes, handle.
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
		MessageAttributeNames:       []string{"All"},
	})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	wctx, span := awsmw.StartConsumer(context.Background(), out.Messages[0],
		awsmw.WithConsumerTracerProvider(tp), awsmw.WithQueueURL(queueURL))
	assert.Equal(t, "req-42", reqstate.RequestID(wctx), "the producer's request id reaches the worker's logs")
	span.End()

	var consumer sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindConsumer {
			consumer = s
		}
	}
	require.NotNil(t, consumer)
	assert.Equal(t, "orders process", consumer.Name())
	assert.Equal(t, send.SpanContext().TraceID(), consumer.SpanContext().TraceID(), "one trace")
	assert.Equal(t, send.SpanContext().SpanID(), consumer.Parent().SpanID(), "child of the SendMessage call")
	assert.True(t, consumer.Parent().IsRemote())

	// In X-Ray: the worker's segment hangs from the SQS subsegment.
	enc := xraysegment.NewEncoder(xraysegment.Config{})
	sendDoc := decode(t, enc.AppendSegment(nil, send))
	workerDoc := decode(t, enc.AppendSegment(nil, consumer))
	assert.Equal(t, "SQS", sendDoc["name"])
	assert.Equal(t, "aws", sendDoc["namespace"])
	assert.Nil(t, workerDoc["type"], "the worker's span is a segment")
	assert.Equal(t, "checkout", workerDoc["name"])
	assert.Equal(t, sendDoc["trace_id"], workerDoc["trace_id"])
	assert.Equal(t, sendDoc["id"], workerDoc["parent_id"])
}

// A message without a trace header (sent by something untraced) starts a
// new trace; a bad request id is not taken.
func TestStartConsumerWithoutHeader(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	bad := "has spaces"
	msg := sqstypes.Message{
		MessageId:         aws.String("m-1"),
		Attributes:        map[string]string{"AWSTraceHeader": "garbage"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{awsmw.RequestIDAttribute: {DataType: aws.String("String"), StringValue: &bad}},
	}
	ctx, span := awsmw.StartConsumer(context.TODO(), msg, awsmw.WithConsumerTracerProvider(tp))
	span.End()
	assert.Empty(t, reqstate.RequestID(ctx))
	s := rec.Ended()[0]
	assert.False(t, s.Parent().IsValid(), "new trace")
	assert.Equal(t, "process", s.Name())
	assert.Equal(t, trace.SpanKindConsumer, s.SpanKind())
	assert.Equal(t, "github.com/o11y-go/o11y/middleware/awsmw", s.InstrumentationScope().Name, "scope = import path")
	assert.Equal(t, version.Version, s.InstrumentationScope().Version)
	assert.Nil(t, awsmw.WithRequestID(context.Background(), nil), "no request id: nothing added")
}

func decode(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	return m
}

func xrayTraceID(id trace.TraceID) string {
	h := id.String()
	return strings.Join([]string{"1", h[:8], h[8:]}, "-")
}
