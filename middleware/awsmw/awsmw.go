// Package awsmw traces AWS SDK for Go v2 calls with one line:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	awsmw.Instrument(&cfg)
//	db := dynamodb.NewFromConfig(cfg) // every call is now an X-Ray "aws" subsegment
//
// It uses the SDK's own tracing (each client's TracerProvider, wired to
// OpenTelemetry by smithy-go's smithyoteltracing adapter), not an
// instrumentation of its own, and configures it for X-Ray:
//
//   - spans go to the o11y SDK's tracer provider ([o11y.Default] at the
//     time of each call, so Instrument may run before or after [o11y.Start]);
//   - each call is one CLIENT span, the SDK's operation span
//     (<service>.<operation>, rpc.system=aws-api, rpc.service, rpc.method,
//     and on failure api.error_code and api.error_fault). The SDK's phase
//     spans (RetryLoop, Attempt, SignRequest, DoHTTPRequest, …) are not
//     recorded: X-Ray shows one AWS subsegment per call;
//   - what the SDK records only on those phase spans, or nowhere, is set on
//     the call's span: the region (aws.region), the request id
//     (aws.request_id), the last attempt's HTTP status
//     (http.response.status_code), the number of retries
//     (http.request.resend_count) and the resource the call addressed
//     ([ResourceAttributes]);
//   - the outgoing request carries the X-Amzn-Trace-Id header (the X-Ray
//     propagator only: AWS services read no other) naming the call's span
//     as parent, which is also how an SQS SendMessage hands the trace to the
//     message's consumer ([StartConsumer]).
//
// Clients take the tracer provider when they are created
// (NewFromConfig): instrument the config before creating clients from it.
// A TracerProvider set in a client's own options replaces Instrument's:
// with smithyoteltracing.Adapt the call's span still gets the fields above
// and the trace header still names it (the SDK's phase spans are then
// recorded too; the X-Ray translator leaves them out).
//
// The package is its own Go module, so a service that does not import it
// does not link the AWS SDK.
package awsmw

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	v2middleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithytracing "github.com/aws/smithy-go/tracing"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
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
// config is harmless (each call is traced once; the last tracer provider
// given wins); a nil cfg is ignored.
func Instrument(cfg *aws.Config, opts ...Option) {
	if cfg == nil {
		return
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	tp := &tracerProvider{otel: o.tp}
	cfg.ServiceOptions = append(cfg.ServiceOptions, func(_ string, clientOptions any) {
		setTracerProvider(clientOptions, tp)
	})
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		if _, done := stack.Initialize.Get(callID); done {
			return nil // instrumented twice: trace once
		}
		if err := stack.Initialize.Add(callMiddleware{}, middleware.After); err != nil {
			return err
		}
		// Last in Finalize: after signing, inside the retry loop (every
		// attempt carries the header). SigV4 does not sign X-Amzn-Trace-Id.
		return stack.Finalize.Add(injectMiddleware{}, middleware.After)
	})
}

// tracerType is the type of every service client's Options.TracerProvider.
var tracerType = reflect.TypeFor[smithytracing.TracerProvider]()

// setTracerProvider sets the TracerProvider field of a service client's
// options (*dynamodb.Options, *s3.Options, …: aws.Config.ServiceOptions
// hands them over as any), so no service package is linked.
func setTracerProvider(clientOptions any, tp smithytracing.TracerProvider) {
	rv := reflect.ValueOf(clientOptions)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return
	}
	f := rv.Elem().FieldByName("TracerProvider")
	if !f.IsValid() || !f.CanSet() || f.Type() != tracerType {
		return
	}
	f.Set(reflect.ValueOf(tp))
}

// tracerProvider is the SDK clients' tracer provider: the operation span
// of each call goes through smithyoteltracing to the OpenTelemetry
// provider (resolved per call), the SDK's phase spans are not recorded.
type tracerProvider struct {
	otel    trace.TracerProvider // nil: o11y.Default()'s at each call
	tracers sync.Map             // scope → *tracer
}

func (p *tracerProvider) Tracer(scope string, opts ...smithytracing.TracerOption) smithytracing.Tracer {
	if len(opts) > 0 {
		return &tracer{p: p, scope: scope, opts: opts}
	}
	// The SDK asks for its client's scope on every call, without options.
	if t, ok := p.tracers.Load(scope); ok {
		return t.(*tracer)
	}
	t, _ := p.tracers.LoadOrStore(scope, &tracer{p: p, scope: scope})
	return t.(*tracer)
}

type tracer struct {
	p     *tracerProvider
	scope string
	opts  []smithytracing.TracerOption
	// last is the smithyoteltracing tracer for the OpenTelemetry provider
	// of the latest call (the provider is resolved per call).
	last atomic.Pointer[adapted]
}

type adapted struct {
	otel trace.TracerProvider
	t    smithytracing.Tracer
}

// adapt returns the smithyoteltracing tracer of this scope for tp.
func (t *tracer) adapt(tp trace.TracerProvider) smithytracing.Tracer {
	if a := t.last.Load(); a != nil && a.otel == tp {
		return a.t
	}
	a := &adapted{otel: tp, t: smithyoteltracing.Adapt(tp).Tracer(t.scope, t.opts...)}
	t.last.Store(a)
	return a.t
}

func (t *tracer) StartSpan(ctx context.Context, name string, opts ...smithytracing.SpanOption) (context.Context, smithytracing.Span) {
	var o smithytracing.SpanOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.Kind != smithytracing.SpanKindClient {
		// A phase of the call: not recorded. It becomes the active smithy
		// span, so what the SDK sets on it (request id, dial addresses)
		// is dropped rather than landing on the call's span.
		if s, _ := smithytracing.GetSpan(ctx); isPhase(s) {
			return ctx, phaseSpan{} // a phase within a phase: already inert
		}
		return smithytracing.WithSpan(ctx, phaseSpan{}), phaseSpan{}
	}
	// The call's span. smithyoteltracing parents it on the active smithy
	// span, which it expects to be its own: take ours (a call made inside
	// another call's phase, e.g. a credentials provider's STS call) off.
	for s, ok := smithytracing.GetSpan(ctx); ok && isPhase(s); s, ok = smithytracing.GetSpan(ctx) {
		ctx, _ = smithytracing.PopSpan(ctx)
	}
	tp := t.p.otel
	if tp == nil {
		tp = o11y.Default().TracerProvider()
	}
	return t.adapt(tp).StartSpan(ctx, name, opts...)
}

// phaseSpan is an SDK phase span that is not recorded.
type phaseSpan struct{}

func isPhase(s smithytracing.Span) bool {
	_, ok := s.(phaseSpan)
	return ok
}

func (phaseSpan) Name() string                                  { return "" }
func (phaseSpan) Context() smithytracing.SpanContext            { return smithytracing.SpanContext{} }
func (phaseSpan) AddEvent(string, ...smithytracing.EventOption) {}
func (phaseSpan) SetProperty(any, any)                          {}
func (phaseSpan) SetStatus(smithytracing.SpanStatus)            {}
func (phaseSpan) End()                                          {}

const (
	callID   = "O11yAWSCall"
	injectID = "O11yXRayTraceHeader"
)

// callSpanKey holds the call's OpenTelemetry span in the context the rest
// of the SDK's middleware stack runs with.
type callSpanKey struct{}

// operationSpan returns the OpenTelemetry span of the SDK's operation span
// when ctx is the context the call's middleware stack starts with: the
// active smithy span is the operation span and, when it goes through
// smithyoteltracing (Instrument's tracer provider, or one a client set
// itself), the active OpenTelemetry span is the same span. Otherwise (no
// tracing, or a tracer provider that is not OpenTelemetry's) it returns
// nil, so the caller's span is never taken for the call's.
func operationSpan(ctx context.Context) trace.Span {
	s, ok := smithytracing.GetSpan(ctx)
	if !ok {
		return nil
	}
	span := trace.SpanFromContext(ctx)
	if sc := span.SpanContext(); !sc.IsValid() || sc.SpanID().String() != s.Context().SpanID {
		return nil
	}
	return span
}

// callMiddleware records on the call's span what the SDK's operation span
// lacks: region and resource before the call, request id, HTTP status and
// retries after it.
type callMiddleware struct{}

func (callMiddleware) ID() string { return callID }

func (callMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	span := operationSpan(ctx)
	if span == nil {
		return next.HandleInitialize(ctx, in)
	}
	ctx = context.WithValue(ctx, callSpanKey{}, span)
	if !span.IsRecording() {
		return next.HandleInitialize(ctx, in)
	}
	attrs := ResourceAttributes(ctx, in, middleware.InitializeOutput{})
	if r := v2middleware.GetRegion(ctx); r != "" {
		attrs = append(attrs, attribute.String("aws.region", r))
	}
	span.SetAttributes(attrs...)
	out, md, err := next.HandleInitialize(ctx, in)
	var after [3]attribute.KeyValue
	n := 0
	if id, ok := v2middleware.GetRequestIDMetadata(md); ok && id != "" {
		after[n] = attribute.String("aws.request_id", id)
		n++
	}
	if resp, ok := v2middleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil && resp.Response != nil && resp.StatusCode > 0 {
		after[n] = attribute.Int("http.response.status_code", resp.StatusCode)
		n++
	}
	if results, ok := retry.GetAttemptResults(md); ok && len(results.Results) > 0 {
		after[n] = attribute.Int("http.request.resend_count", len(results.Results)-1)
		n++
	}
	span.SetAttributes(after[:n]...)
	return out, md, err
}

// injectMiddleware sends the X-Ray trace header naming the call's span as
// parent (what the trace's next hop, e.g. an SQS consumer, hangs from).
type injectMiddleware struct{}

func (injectMiddleware) ID() string { return injectID }

func (injectMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.Header != nil {
		pctx := ctx
		if span, ok := ctx.Value(callSpanKey{}).(trace.Span); ok {
			pctx = trace.ContextWithSpan(ctx, span)
		}
		tracing.XRayPropagator{}.Inject(pctx, propagation.HeaderCarrier(req.Header))
	}
	return next.HandleFinalize(ctx, in)
}

// ResourceAttributes returns the resource a call addresses, under the keys
// the X-Ray translator reads: DynamoDB tables (aws.dynamodb.table_names),
// S3 bucket and key (aws.s3.bucket, aws.s3.key), the SQS queue URL
// (aws.sqs.queue.url), the SNS topic (aws.sns.topic.arn), the Lambda
// function (faas.invoked_name), the Kinesis stream
// (aws.kinesis.stream_name). It reads the request's parameters by field
// name, so no service package is linked. [Instrument] records it on every
// call; it also fits otelaws.WithAttributeBuilder for services that wire
// otelaws themselves.
func ResourceAttributes(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeOutput) []attribute.KeyValue {
	switch v2middleware.GetServiceID(ctx) {
	case "DynamoDB":
		if t := stringField(in.Parameters, "TableName"); t != "" {
			return []attribute.KeyValue{attribute.StringSlice("aws.dynamodb.table_names", []string{t})}
		}
		if ts := mapKeys(in.Parameters, "RequestItems"); len(ts) > 0 { // BatchGetItem, BatchWriteItem
			return []attribute.KeyValue{attribute.StringSlice("aws.dynamodb.table_names", ts)}
		}
	case "S3":
		var kv []attribute.KeyValue
		if b := stringField(in.Parameters, "Bucket"); b != "" {
			kv = append(kv, attribute.String("aws.s3.bucket", b))
		}
		if k := stringField(in.Parameters, "Key"); k != "" {
			kv = append(kv, attribute.String("aws.s3.key", k))
		}
		return kv
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

// field returns the field name of the struct params points to.
func field(params any, name string) reflect.Value {
	rv := reflect.ValueOf(params)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return reflect.Value{}
	}
	rv = rv.Elem()
	if rv.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return rv.FieldByName(name)
}

// stringField returns the *string field name of the struct params points
// to, or "".
func stringField(params any, name string) string {
	f := field(params, name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

// mapKeys returns the sorted string keys of the map field name.
func mapKeys(params any, name string) []string {
	f := field(params, name)
	if !f.IsValid() || f.Kind() != reflect.Map || f.Type().Key().Kind() != reflect.String || f.Len() == 0 {
		return nil
	}
	keys := make([]string, 0, f.Len())
	for _, k := range f.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	return keys
}
