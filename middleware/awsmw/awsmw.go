// Package awsmw traces AWS SDK for Go v2 calls with one line:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	awsmw.Instrument(&cfg)
//	db := dynamodb.NewFromConfig(cfg) // every call is now an X-Ray "aws" subsegment
//
// It installs the OpenTelemetry instrumentation (otelaws), not one of its
// own, configured for X-Ray (otelaws v0.72.0 marks itself deprecated; see
// docs/AWS-CALLS.md for the planned move to the SDK's own smithy tracing):
//
//   - spans go to the o11y SDK's tracer provider ([o11y.Default] at the
//     time of each call, so Instrument may run before or after [o11y.Start]);
//   - the outgoing request carries the X-Amzn-Trace-Id header (the X-Ray
//     propagator only: AWS services read no other), which is also how an
//     SQS SendMessage hands the trace to the message's consumer;
//   - attribute builders add the resources otelaws does not record, under
//     their semantic-convention keys: the SQS queue URL
//     (aws.sqs.queue.url), the SNS topic (aws.sns.topic.arn), the Lambda
//     function (faas.invoked_name), the Kinesis stream
//     (aws.kinesis.stream_name); otelaws itself records DynamoDB tables and
//     S3 buckets and keys;
//   - after the call, the AWS error code (rpc.response.status_code) and
//     the number of retries (http.request.resend_count), which the
//     translator turns into throttle flags and aws.retries.
//
// The package is its own Go module, so a service that does not import it
// does not link the AWS SDK.
package awsmw

//lint:file-ignore SA1019 otelaws v0.72.0 is deprecated upstream; kept until the move to smithyoteltracing (docs/AWS-CALLS.md)

import (
	"context"
	"errors"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	v2middleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/tracing"
)

// Option customises [Instrument].
type Option func(*options)

type options struct {
	tp trace.TracerProvider
}

// WithTracerProvider sends the spans to tp instead of the o11y SDK's.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// Instrument makes every client created from cfg afterwards trace its
// calls (see the package documentation). Calling it again on the same
// config adds an option that does nothing (each call is traced once); a nil
// cfg is ignored.
func Instrument(cfg *aws.Config, opts ...Option) {
	if cfg == nil {
		return
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	tp := o.tp
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		if _, done := stack.Initialize.Get(outcomeID); done {
			return nil // instrumented twice: trace once
		}
		p := tp
		if p == nil {
			// Resolved per call, so the order of Instrument and
			// o11y.Start does not matter.
			p = o11y.Default().TracerProvider()
		}
		for _, f := range stackOptions(p) {
			if err := f(stack); err != nil {
				return err
			}
		}
		return nil
	})
}

// stackOptions are otelaws's middlewares followed by ours, which run inside
// otelaws's span.
func stackOptions(tp trace.TracerProvider) []func(*middleware.Stack) error {
	var fs []func(*middleware.Stack) error
	otelaws.AppendMiddlewares(&fs,
		otelaws.WithTracerProvider(tp),
		otelaws.WithTextMapPropagator(tracing.XRayPropagator{}),
		otelaws.WithAttributeBuilder(otelaws.DefaultAttributeBuilder, ResourceAttributes),
	)
	return append(fs, addOutcome)
}

// ResourceAttributes is an otelaws.AttributeBuilder for the resource fields
// X-Ray shows on AWS nodes that otelaws's own builders leave out. It reads
// the request's parameters by field name, so no service package is linked.
func ResourceAttributes(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeOutput) []attribute.KeyValue {
	switch v2middleware.GetServiceID(ctx) {
	case "SQS":
		if u := stringField(in.Parameters, "QueueUrl"); u != "" {
			return []attribute.KeyValue{attribute.String("aws.sqs.queue.url", u)}
		}
	case "SNS":
		arn := stringField(in.Parameters, "TopicArn")
		if arn == "" {
			arn = stringField(in.Parameters, "TargetArn")
		}
		if arn != "" {
			return []attribute.KeyValue{attribute.String("aws.sns.topic.arn", arn)}
		}
	case "Lambda":
		if fn := stringField(in.Parameters, "FunctionName"); fn != "" {
			return []attribute.KeyValue{attribute.String("faas.invoked_name", fn)}
		}
	case "Kinesis":
		if s := stringField(in.Parameters, "StreamName"); s != "" {
			return []attribute.KeyValue{attribute.String("aws.kinesis.stream_name", s)}
		}
	}
	return nil
}

// stringField returns the *string field name of the struct params points
// to, or "".
func stringField(params any, name string) string {
	rv := reflect.ValueOf(params)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return ""
	}
	rv = rv.Elem()
	if rv.Kind() != reflect.Struct {
		return ""
	}
	f := rv.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

const outcomeID = "O11yAWSOutcome"

// addOutcome records, on otelaws's span, what only the finished call
// knows: the AWS error code and how many times the SDK retried.
func addOutcome(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(outcomeID, func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return out, md, err
		}
		if results, ok := retry.GetAttemptResults(md); ok && len(results.Results) > 0 {
			span.SetAttributes(attribute.Int("http.request.resend_count", len(results.Results)-1))
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
			span.SetAttributes(attribute.String("rpc.response.status_code", apiErr.ErrorCode()))
		}
		return out, md, err
	}), middleware.After)
}
