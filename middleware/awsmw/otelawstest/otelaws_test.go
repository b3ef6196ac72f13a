package otelawstest

//lint:file-ignore SA1019 this module exists to test otelaws, deprecated upstream, for services that still wire it themselves

import (
	"context"
	"errors"
	"flag"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/middleware/awsmw/internal/awscalls"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// withOtelaws wires otelaws the way awsmw.Instrument did before it moved
// to the SDK's own tracing: otelaws's middlewares with the X-Ray
// propagator and awsmw.ResourceAttributes, then the AWS error code and
// retry count on otelaws's span.
func withOtelaws(cfg *aws.Config, tp trace.TracerProvider) {
	otelaws.AppendMiddlewares(&cfg.APIOptions,
		otelaws.WithTracerProvider(tp),
		otelaws.WithTextMapPropagator(tracing.XRayPropagator{}),
		otelaws.WithAttributeBuilder(otelaws.DefaultAttributeBuilder, awsmw.ResourceAttributes),
	)
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("outcome", func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			span := trace.SpanFromContext(ctx)
			if results, ok := retry.GetAttemptResults(md); ok && len(results.Results) > 0 {
				span.SetAttributes(attribute.Int("http.request.resend_count", len(results.Results)-1))
			}
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
				span.SetAttributes(attribute.String("rpc.response.status_code", apiErr.ErrorCode()))
			}
			return out, md, err
		}), middleware.After)
	})
}

// run makes c under a SERVER span with instrument applied to the config
// and returns the translated document of the call's CLIENT span (the only
// one: otelaws records no phase spans, awsmw records none).
func run(t *testing.T, f *awsfake.Server, c awscalls.Call, instrument func(*aws.Config, trace.TracerProvider)) (map[string]any, string) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	cfg := awscalls.Config(f.URL)
	instrument(&cfg, tp)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "GET /checkout", trace.WithSpanKind(trace.SpanKindServer))
	err := c.Run(ctx, cfg)
	parent.End()
	require.Equal(t, c.Failed(), err != nil, "%v", err)
	ended := rec.Ended()
	require.Len(t, ended, 2, "the caller's span and one span per call")
	span := ended[0]
	require.Equal(t, trace.SpanKindClient, span.SpanKind())
	doc := xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, span)
	require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
	return awscalls.Normalise(t, doc), f.LastHeader().Get("X-Amzn-Trace-Id")
}

// TestOtelawsMatchesSDKTracing makes every call of awscalls.Calls through
// otelaws v0.72.0 (goldens under testdata/, the documents awsmw produced
// before the switch) and through awsmw.Instrument (the SDK's own tracing),
// and checks that the X-Ray documents agree on everything but metadata
// (which holds each instrumentation's own attribute names).
func TestOtelawsMatchesSDKTracing(t *testing.T) {
	f := awsfake.New(t)
	for _, c := range awscalls.Calls() {
		t.Run(c.Name, func(t *testing.T) {
			old, oldHeader := run(t, f, c, withOtelaws)
			awscalls.Golden(t, *update, c.Name, old)
			now, nowHeader := run(t, f, c, func(cfg *aws.Config, tp trace.TracerProvider) {
				awsmw.Instrument(cfg, awsmw.WithTracerProvider(tp))
			})
			assert.Equal(t, c.Service, old["name"])
			assert.Equal(t, c.Operation, awscalls.Get(old, "aws", "operation"))
			delete(old, "metadata")
			delete(now, "metadata")
			assert.Equal(t, old, now, "otelaws and the SDK's own tracing give the same subsegment")
			assert.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`, oldHeader)
			assert.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`, nowHeader)
		})
	}
}
