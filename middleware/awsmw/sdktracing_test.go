package awsmw_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/middleware/awsmw/internal/awscalls"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// TestSDKTracingAlone wires the SDK's own tracing to OpenTelemetry the way
// smithy-go documents it (each client's TracerProvider =
// smithyoteltracing.Adapt(tp)), without awsmw, and records what it emits
// and what the translator makes of it: per call one CLIENT span
// (<service id>.<operation>) and INTERNAL phase spans under it; the phase
// spans get no document (xraysegment.Omitted), so X-Ray shows one aws
// subsegment per call. The goldens (testdata/sdk_only/) are those
// subsegments: name, namespace, operation and flags are right, region,
// request id, HTTP status, retries and resources are missing (the SDK
// records the request id and status on phase spans only), and no trace
// header is sent. That is what awsmw.Instrument adds.
func TestSDKTracingAlone(t *testing.T) {
	f := awsfake.New(t)
	enc := xraysegment.NewEncoder(xraysegment.Config{})
	for _, c := range awscalls.Calls() {
		t.Run(c.Name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			cfg := testConfig(f.URL)
			stp := smithyoteltracing.Adapt(tp)
			cfg.ServiceOptions = append(cfg.ServiceOptions, func(_ string, o any) {
				reflect.ValueOf(o).Elem().FieldByName("TracerProvider").Set(reflect.ValueOf(stp))
			})
			ctx, parent := tp.Tracer("test").Start(context.Background(), "GET /checkout", trace.WithSpanKind(trace.SpanKindServer))
			err := c.Run(ctx, cfg)
			parent.End()
			require.Equal(t, c.Failed(), err != nil, "%v", err)
			assert.Empty(t, f.LastHeader().Get("X-Amzn-Trace-Id"), "the SDK's tracing propagates nothing")

			var docs [][]byte
			var call sdktrace.ReadOnlySpan
			phases := map[string]int{}
			for _, s := range rec.Ended() {
				if s.SpanContext().SpanID() == parent.SpanContext().SpanID() {
					continue
				}
				assert.Equal(t, s.SpanKind() == trace.SpanKindInternal, xraysegment.Omitted(s), s.Name())
				if doc := enc.AppendSegment(nil, s); len(doc) > 0 {
					docs = append(docs, doc)
				}
				if s.SpanKind() == trace.SpanKindClient {
					call = s
				} else {
					phases[s.Name()]++
				}
			}
			require.NotNil(t, call)
			require.Len(t, docs, 1, "one document per call")
			assert.Equal(t, parent.SpanContext().SpanID(), call.Parent().SpanID())
			attempts := 1 + c.Retries
			assert.Equal(t, attempts, phases["Attempt"], "one Attempt span per HTTP request")
			assert.Equal(t, attempts, phases["DoHTTPRequest"])
			assert.Equal(t, 1, phases["RetryLoop"])
			total := 0
			for _, n := range phases {
				total += n
			}
			// OperationSerializer and RetryLoop once; per attempt: Attempt,
			// ResolveAuthScheme, GetIdentity, ResolveEndpoint,
			// ComputePayloadSHA256, SignRequest, DoHTTPRequest,
			// OperationDeserializer.
			assert.Equal(t, 2+8*attempts, total, "phase spans: %v", phases)
			require.NoError(t, xrayvalidate.Validate(docs[0]), "%s", docs[0])
			m := awscalls.Normalise(t, docs[0])
			awscalls.Golden(t, *update, "sdk_only/"+c.Name, m)

			assert.Equal(t, c.Service, m["name"])
			assert.Equal(t, "aws", m["namespace"])
			assert.Equal(t, c.Operation, get(m, "aws", "operation"))
			assert.Equal(t, c.Fault, m["fault"], "fault (from api.error_fault)")
			assert.Equal(t, c.Error, m["error"], "error (from api.error_fault)")
			assert.Equal(t, c.Throttle, m["throttle"], "throttle (from api.error_code)")
			for _, k := range []string{"region", "request_id", "retries"} {
				assert.Nil(t, get(m, "aws", k), "the SDK's call span has no %s", k)
			}
			assert.Nil(t, m["http"], "the SDK's call span has no HTTP status")
			var names []string
			for n := range phases {
				names = append(names, n)
			}
			sort.Strings(names)
			t.Logf("%s: phase spans %s", call.Name(), strings.Join(names, ", "))
		})
	}
}

// A call made inside another call's phase (a credentials provider calling
// an AWS service while the outer call resolves its identity) is its own
// subsegment under the outer call, and the phase spans awsmw leaves out do
// not confuse smithyoteltracing's parenting.
func TestNestedCall(t *testing.T) {
	f := awsfake.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	inner := testConfig(f.URL)
	awsmw.Instrument(&inner, awsmw.WithTracerProvider(tp))
	sm := secretsmanager.NewFromConfig(inner)
	outer := testConfig(f.URL)
	outer.Credentials = aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db-password")})
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, err
	})
	awsmw.Instrument(&outer, awsmw.WithTracerProvider(tp))
	require.NoError(t, getItem("orders")(context.Background(), outer))
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	require.Len(t, spans, 2, "%v", spans)
	get, secret := spans["DynamoDB.GetItem"], spans["Secrets Manager.GetSecretValue"]
	require.NotNil(t, get)
	require.NotNil(t, secret)
	assert.Equal(t, get.SpanContext().SpanID(), secret.Parent().SpanID(), "the inner call hangs from the outer one")
}

// A client that sets smithyoteltracing.Adapt in its own options (replacing
// Instrument's tracer provider) still gets awsmw's fields on the call's
// span and a trace header naming it, and its phase spans, recorded now,
// get no X-Ray document.
func TestInstrumentWithClientTracerProvider(t *testing.T) {
	f := awsfake.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp))
	stp := smithyoteltracing.Adapt(tp)
	cfg.ServiceOptions = append(cfg.ServiceOptions, func(_ string, o any) {
		reflect.ValueOf(o).Elem().FieldByName("TracerProvider").Set(reflect.ValueOf(stp))
	})
	require.NoError(t, getItem("orders")(context.Background(), cfg))
	enc := xraysegment.NewEncoder(xraysegment.Config{})
	var docs [][]byte
	var call sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if doc := enc.AppendSegment(nil, s); len(doc) > 0 {
			docs = append(docs, doc)
			call = s
		}
	}
	require.Greater(t, len(rec.Ended()), 2, "phase spans recorded")
	require.Len(t, docs, 1)
	assert.Equal(t, "DynamoDB.GetItem", call.Name())
	assert.Contains(t, f.LastHeader().Get("X-Amzn-Trace-Id"), ";Parent="+call.SpanContext().SpanID().String()+";")
	m := awscalls.Normalise(t, docs[0])
	for _, k := range []string{"region", "request_id", "table_name"} {
		assert.NotEmpty(t, get(m, "aws", k), k)
	}
	assert.Equal(t, 200.0, get(m, "http", "response", "status"))
}
