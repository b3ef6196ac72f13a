package legacyotelaws

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func TestLegacyOtelawsSpans(t *testing.T) {
	f := awsfake.New(t)
	const queueURL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
	cases := []struct {
		name, service, operation string
		resource                 map[string]any
		status                   float64
		errFlag, throttle        bool
		run                      func(context.Context, aws.Config) error
	}{
		{"dynamodb getitem", "DynamoDB", "GetItem", map[string]any{"table_name": "orders"}, 200, false, false,
			func(ctx context.Context, cfg aws.Config) error {
				_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"),
					Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "42"}}})
				return err
			}},
		{"dynamodb throttled", "DynamoDB", "GetItem", map[string]any{"table_name": "hot"}, 400, true, false,
			func(ctx context.Context, cfg aws.Config) error {
				_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("hot"),
					Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "42"}}})
				return err
			}},
		{"sqs sendmessage", "SQS", "SendMessage", map[string]any{"queue_url": queueURL}, 200, false, false,
			func(ctx context.Context, cfg aws.Config) error {
				_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("hi")})
				return err
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			cfg := aws.Config{
				Region:       "eu-west-1",
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				BaseEndpoint: aws.String(f.URL),
				Retryer: func() aws.Retryer {
					return retry.NewStandard(func(o *retry.StandardOptions) {
						o.MaxAttempts, o.Backoff, o.RateLimiter = 3, noDelay{}, ratelimit.None
					})
				},
			}
			// Plain otelaws, as its README sets it up.
			otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(tp),
				otelaws.WithTextMapPropagator(tracing.XRayPropagator{}))
			ctx, parent := tp.Tracer("test").Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer))
			err := c.run(ctx, cfg)
			parent.End()
			if c.errFlag {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			var span sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				if s.SpanKind() == trace.SpanKindClient {
					span = s
				}
			}
			require.NotNil(t, span)
			keys := map[string]bool{}
			for _, kv := range span.Attributes() {
				keys[string(kv.Key)] = true
			}
			require.True(t, keys["rpc.system"] && keys["rpc.service"], "old key generation: %v", keys)
			doc := xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, span)
			require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
			var m map[string]any
			require.NoError(t, json.Unmarshal(doc, &m))
			assert.Equal(t, c.service, m["name"])
			assert.Equal(t, "aws", m["namespace"])
			aws, _ := m["aws"].(map[string]any)
			require.NotNil(t, aws)
			assert.Equal(t, c.operation, aws["operation"])
			assert.Equal(t, "eu-west-1", aws["region"])
			assert.NotEmpty(t, aws["request_id"])
			for k, v := range c.resource {
				assert.Equal(t, v, aws[k], k)
			}
			resp, _ := m["http"].(map[string]any)["response"].(map[string]any)
			assert.Equal(t, c.status, resp["status"])
			assert.Nil(t, m["http"].(map[string]any)["request"], "no traced flag")
			assert.Equal(t, c.errFlag, m["error"])
			assert.Equal(t, c.throttle, m["throttle"], "plain otelaws records no error code: a 400 throttle shows as error only")
		})
	}
}
