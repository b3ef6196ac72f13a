package awsmw

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/tracing"
)

// RequestIDAttribute is the SQS message attribute that carries the
// producer's request id to the consumer ([WithRequestID] sets it,
// [StartConsumer] reads it), the counterpart of the X-Request-Id header.
const RequestIDAttribute = "X-Request-Id"

// WithRequestID returns attrs (a new map when nil) with the request id of
// ctx (the one httpmw or grpcmw assigned) under [RequestIDAttribute], for
// SendMessageInput.MessageAttributes. Without a request id attrs is
// returned unchanged.
//
// The trace needs no such step: Instrument's X-Ray propagator sends the
// X-Amzn-Trace-Id header with SendMessage and SendMessageBatch, and SQS
// copies it into each message's AWSTraceHeader system attribute.
func WithRequestID(ctx context.Context, attrs map[string]sqstypes.MessageAttributeValue) map[string]sqstypes.MessageAttributeValue {
	id := reqstate.RequestID(ctx)
	if id == "" {
		return attrs
	}
	if attrs == nil {
		attrs = make(map[string]sqstypes.MessageAttributeValue, 1)
	}
	attrs[RequestIDAttribute] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(id)}
	return attrs
}

// ConsumerOption customises [StartConsumer].
type ConsumerOption func(*consumerOptions)

type consumerOptions struct {
	tp       trace.TracerProvider
	queueURL string
}

// WithConsumerTracerProvider starts the span on tp instead of the o11y
// SDK's.
func WithConsumerTracerProvider(tp trace.TracerProvider) ConsumerOption {
	return func(o *consumerOptions) { o.tp = tp }
}

// WithQueueURL names the queue the message came from (the span's name and
// messaging.destination.name are the queue's name).
func WithQueueURL(url string) ConsumerOption {
	return func(o *consumerOptions) { o.queueURL = url }
}

// StartConsumer starts the CONSUMER span for one message a long-running
// worker received from SQS (ask for it with MessageSystemAttributeNames:
// AWSTraceHeader, and MessageAttributeNames: All or [RequestIDAttribute]).
// End the span when the message is handled; log with the returned context.
//
// The span continues the producer's trace as a child of the producer's
// SendMessage call (the Parent in AWSTraceHeader), the way Lambda continues
// an SQS trace: X-Ray then shows producer → SQS queue → worker as one
// connected trace on the service map. A span link would not: X-Ray draws
// no map edge for links, and a link-only worker segment starts its own
// trace. A message without a usable AWSTraceHeader starts a new trace.
// Handle a batch one message at a time: each message continues its own
// trace.
//
// The request id from [RequestIDAttribute] (when present) is put in the
// context, so the worker's log lines carry the producer's request id.
func StartConsumer(ctx context.Context, msg sqstypes.Message, opts ...ConsumerOption) (context.Context, trace.Span) {
	var o consumerOptions
	for _, opt := range opts {
		opt(&o)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if h := msg.Attributes[string(sqstypes.MessageSystemAttributeNameAWSTraceHeader)]; h != "" {
		carrier := propagation.MapCarrier{tracing.HeaderName: h}
		ctx = tracing.XRayPropagator{}.Extract(ctx, carrier)
	}
	if v, ok := msg.MessageAttributes[RequestIDAttribute]; ok && v.StringValue != nil && validRequestID(*v.StringValue) {
		ctx = reqstate.With(ctx, &reqstate.State{RequestID: *v.StringValue})
	}
	tp := o.tp
	if tp == nil {
		tp = o11y.Default().TracerProvider()
	}
	queue := o.queueURL
	if i := strings.LastIndexByte(queue, '/'); i >= 0 {
		queue = queue[i+1:]
	}
	name := "process"
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.operation.name", "process"),
	}
	if queue != "" {
		name = queue + " process"
		attrs = append(attrs, attribute.String("messaging.destination.name", queue))
	}
	if o.queueURL != "" {
		attrs = append(attrs, attribute.String("aws.sqs.queue.url", o.queueURL))
	}
	if msg.MessageId != nil {
		attrs = append(attrs, attribute.String("messaging.message.id", *msg.MessageId))
	}
	return version.Tracer(tp, scopeName).Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
}

// scopeName is the instrumentation scope of the consumer spans this package
// starts: its import path, at the module's version. (The AWS client spans
// are the SDK's, under each service client's scope.)
const scopeName = "github.com/o11y-go/o11y/middleware/awsmw"

// validRequestID accepts what httpmw accepts for X-Request-Id: 1–128 of
// [A-Za-z0-9._:-].
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
