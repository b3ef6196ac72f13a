package awsmw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/resources"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const (
	queueURL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
	topicARN = "arn:aws:sns:eu-west-1:111122223333:order-events"
)

// noDelay retries at once: the tests count retries, they do not wait.
type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// testConfig is what config.LoadDefaultConfig would give, pointed at the
// fake endpoint, with the standard retryer (3 attempts) minus its delays.
func testConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = noDelay{}
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// awsCall is one real SDK call and what X-Ray must show for it.
type awsCall struct {
	name      string // golden file
	service   string // X-Ray name (and aws-sdk-go-v2 service id)
	operation string
	resource  map[string]any // resource fields of the aws block
	status    int
	fault     bool
	errFlag   bool
	throttle  bool
	retries   int
	run       func(ctx context.Context, cfg aws.Config) error
}

func key() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "42"}}
}

func getItem(table string) func(context.Context, aws.Config) error {
	return func(ctx context.Context, cfg aws.Config) error {
		_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key()})
		return err
	}
}

func putItem(table string) func(context.Context, aws.Config) error {
	return func(ctx context.Context, cfg aws.Config) error {
		_, err := dynamodb.NewFromConfig(cfg).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key()})
		return err
	}
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func calls() []awsCall {
	table := map[string]any{"table_name": "orders"}
	object := map[string]any{"bucket_name": "photos", "key": "cats/1.jpg"}
	queue := map[string]any{"queue_url": queueURL}
	return []awsCall{
		{name: "dynamodb_getitem", service: "DynamoDB", operation: "GetItem", resource: table, status: 200, run: getItem("orders")},
		{name: "dynamodb_putitem", service: "DynamoDB", operation: "PutItem", resource: table, status: 200, run: putItem("orders")},
		{name: "dynamodb_query", service: "DynamoDB", operation: "Query", resource: table, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := dynamodb.NewFromConfig(cfg).Query(ctx, &dynamodb.QueryInput{
					TableName:                 aws.String("orders"),
					KeyConditionExpression:    aws.String("id = :id"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": &ddbtypes.AttributeValueMemberS{Value: "42"}},
				})
				return err
			}},
		{name: "dynamodb_getitem_throttled", service: "DynamoDB", operation: "GetItem", resource: map[string]any{"table_name": "hot"},
			status: 400, errFlag: true, throttle: true, retries: 2, run: getItem("hot")},
		{name: "dynamodb_putitem_fault", service: "DynamoDB", operation: "PutItem", resource: map[string]any{"table_name": "broken"},
			status: 500, fault: true, retries: 2, run: putItem("broken")},
		{name: "dynamodb_getitem_not_found", service: "DynamoDB", operation: "GetItem", resource: map[string]any{"table_name": "missing"},
			status: 400, errFlag: true, run: getItem("missing")},
		{name: "s3_putobject", service: "S3", operation: "PutObject", resource: object, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := s3Client(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/1.jpg"), Body: strings.NewReader("hello")})
				return err
			}},
		{name: "s3_getobject", service: "S3", operation: "GetObject", resource: object, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				out, err := s3Client(cfg).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/1.jpg")})
				if err == nil {
					out.Body.Close()
				}
				return err
			}},
		{name: "sqs_sendmessage", service: "SQS", operation: "SendMessage", resource: queue, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("order placed")})
				return err
			}},
		{name: "sqs_receivemessage", service: "SQS", operation: "ReceiveMessage", resource: queue, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl:                    aws.String(queueURL),
					MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
				})
				return err
			}},
		{name: "sns_publish", service: "SNS", operation: "Publish", resource: map[string]any{"topic_arn": topicARN}, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String("order placed")})
				return err
			}},
		{name: "lambda_invoke", service: "Lambda", operation: "Invoke", resource: map[string]any{"function_name": "fulfil-order"}, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fulfil-order"), Payload: []byte(`{}`)})
				return err
			}},
		{name: "secretsmanager_getsecretvalue", service: "SecretsManager", operation: "GetSecretValue", status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db-password")})
				return err
			}},
		{name: "kinesis_putrecord", service: "Kinesis", operation: "PutRecord", resource: map[string]any{"stream_name": "orders"}, status: 200,
			run: func(ctx context.Context, cfg aws.Config) error {
				_, err := kinesis.NewFromConfig(cfg).PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("o-1"), Data: []byte("x")})
				return err
			}},
	}
}

// ours runs c through otelaws as awsmw installs it, under a SERVER span,
// and returns the AWS call's span translated into an X-Ray document.
func ours(t *testing.T, f *awsfake.Server, c awsCall) (doc []byte, span sdktrace.ReadOnlySpan) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp))
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp)) // idempotent
	ctx, parent := tp.Tracer("test").Start(context.Background(), "GET /checkout", trace.WithSpanKind(trace.SpanKindServer))
	err := c.run(ctx, cfg)
	parent.End()
	if c.fault || c.errFlag {
		require.Error(t, err)
	} else {
		require.NoError(t, err)
	}
	var client []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			client = append(client, s)
		}
	}
	require.Len(t, client, 1, "one span per call, retries included")
	span = client[0]
	doc = xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, span)
	require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
	return doc, span
}

// peerDaemon is a UDP listener on loopback standing in for the X-Ray
// daemon (kernel-default receive buffer; the test goroutine is its one
// reader). aws-xray-sdk-go emits synchronously when a segment closes.
type peerDaemon struct{ conn net.PacketConn }

func (d *peerDaemon) next(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	require.NoError(t, d.conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	n, _, err := d.conn.ReadFrom(buf)
	require.NoError(t, err)
	_, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
	require.True(t, ok, "daemon header")
	return doc
}

type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

var (
	peerOnce sync.Once
	peerD    *peerDaemon
)

// peer runs c through aws-xray-sdk-go's own AWS SDK v2 instrumentation
// under a segment and returns the call's subsegment.
func peer(t *testing.T, f *awsfake.Server, c awsCall) map[string]any {
	t.Helper()
	peerOnce.Do(func() {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		peerD = &peerDaemon{conn: conn}
		require.NoError(t, xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String(), SamplingStrategy: alwaysSample{}}))
	})
	cfg := testConfig(f.URL)
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	name := "peer-" + c.name
	ctx, seg := xray.BeginSegment(context.Background(), name)
	_ = c.run(ctx, cfg)
	seg.Close(nil)
	// Read up to this call's segment: aws-xray-sdk-go may send a segment
	// again (and list a subsegment twice) under the race detector's
	// scheduling; documents are matched by name and subsegments by id.
	for {
		var root struct {
			Name        string           `json:"name"`
			Subsegments []map[string]any `json:"subsegments"`
		}
		doc := peerD.next(t)
		require.NoError(t, json.Unmarshal(doc, &root))
		if root.Name != name {
			continue
		}
		require.NotEmpty(t, root.Subsegments, "%s", doc)
		for _, sub := range root.Subsegments[1:] {
			require.Equal(t, root.Subsegments[0]["id"], sub["id"], "one AWS call, one subsegment: %s", doc)
		}
		return root.Subsegments[0]
	}
}

// whitelisted returns the aws fields aws-xray-sdk-go's AWSWhitelist.json
// lets the X-Ray SDK record for service/operation (its AWS SDK v1 handlers
// use it), in X-Ray's snake_case.
func whitelisted(t *testing.T, service, operation string) map[string]bool {
	t.Helper()
	raw, err := resources.Asset("resources/AWSWhitelist.json")
	require.NoError(t, err)
	type descriptor struct {
		RenameTo string `json:"rename_to"`
	}
	var wl struct {
		Services map[string]struct {
			Operations map[string]struct {
				RequestParameters   []string              `json:"request_parameters"`
				RequestDescriptors  map[string]descriptor `json:"request_descriptors"`
				ResponseParameters  []string              `json:"response_parameters"`
				ResponseDescriptors map[string]descriptor `json:"response_descriptors"`
			} `json:"operations"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(raw, &wl))
	op, ok := wl.Services[strings.ToLower(service)].Operations[operation]
	require.True(t, ok, "%s %s in AWSWhitelist.json", service, operation)
	fields := map[string]bool{}
	for _, p := range append(op.RequestParameters, op.ResponseParameters...) {
		fields[snake(p)] = true
	}
	for p, d := range op.RequestDescriptors {
		fields[d.RenameTo] = true
		fields[snake(p)] = d.RenameTo == ""
	}
	for _, d := range op.ResponseDescriptors {
		fields[d.RenameTo] = true
	}
	return fields
}

// snake is X-Ray's field-name form of an API parameter: TableName →
// table_name, QueueUrl → queue_url.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalise replaces the fields that change from run to run.
func normalise(doc []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		panic(err)
	}
	for _, k := range []string{"id", "trace_id", "parent_id"} {
		if _, ok := m[k]; ok {
			m[k] = "<" + k + ">"
		}
	}
	m["start_time"], m["end_time"] = 0, 0
	if cause, ok := m["cause"].(map[string]any); ok {
		for _, ex := range cause["exceptions"].([]any) {
			ex.(map[string]any)["id"] = "<exception id>"
		}
	}
	return m
}

func golden(t *testing.T, name string, m map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(m))
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden; run go test -run TestAWSCalls -update")
	require.Equal(t, string(want), string(got))
}

// TestAWSCalls makes real aws-sdk-go-v2 calls against a loopback endpoint
// speaking each service's protocol, traces them with otelaws as Instrument
// installs it, translates the spans with xraysegment, and checks the documents
// against goldens, against what X-Ray needs for an AWS node, and against
// aws-xray-sdk-go's own instrumentation of the same calls.
func TestAWSCalls(t *testing.T) {
	f := awsfake.New(t)
	for _, c := range calls() {
		t.Run(c.name, func(t *testing.T) {
			doc, _ := ours(t, f, c)
			header := f.LastHeader()
			m := normalise(doc)
			golden(t, c.name, m)

			// What makes an AWS node on the service map.
			assert.Equal(t, c.service, m["name"])
			assert.Equal(t, "aws", m["namespace"])
			assert.Equal(t, "subsegment", m["type"])
			awsBlock, _ := m["aws"].(map[string]any)
			require.NotNil(t, awsBlock, "aws block")
			assert.Equal(t, c.operation, awsBlock["operation"])
			assert.Equal(t, "eu-west-1", awsBlock["region"])
			assert.NotEmpty(t, awsBlock["request_id"])
			for k, v := range c.resource {
				assert.Equal(t, v, awsBlock[k], "aws.%s", k)
			}
			if c.retries > 0 {
				assert.Equal(t, float64(c.retries), awsBlock["retries"])
			} else {
				assert.Contains(t, []any{nil, 0.0}, awsBlock["retries"])
			}
			assert.Equal(t, float64(c.status), get(m, "http", "response", "status"))
			assert.Nil(t, get(m, "http", "request"), "no traced flag (nor URL) on AWS calls")
			assert.Equal(t, c.fault, m["fault"], "fault")
			assert.Equal(t, c.errFlag, m["error"], "error")
			assert.Equal(t, c.throttle, m["throttle"], "throttle")
			// The X-Ray header went out (and only it: AWS reads no other).
			assert.True(t, strings.HasPrefix(header.Get("X-Amzn-Trace-Id"), "Root=1-"), "X-Amzn-Trace-Id: %q", header.Get("X-Amzn-Trace-Id"))
			assert.Empty(t, header.Get("traceparent"))

			// Peer: aws-xray-sdk-go's AWS SDK v2 instrumentation.
			p := peer(t, f, c)
			// The peer names the node after the service id as is
			// ("Secrets Manager"); we drop the spaces ("SecretsManager").
			assert.Equal(t, strings.ReplaceAll(p["name"].(string), " ", ""), m["name"], "name")
			assert.Equal(t, p["namespace"], m["namespace"], "namespace")
			for _, k := range []string{"operation", "region", "request_id"} {
				assert.Equal(t, get(p, "aws", k), awsBlock[k], "aws.%s", k)
			}
			assert.Equal(t, get(p, "http", "response", "status"), get(m, "http", "response", "status"))
			if !c.fault && !c.errFlag {
				for _, k := range []string{"fault", "error", "throttle"} {
					assert.Equal(t, p[k] == true, m[k] == true, k)
				}
			}
			// The peer's v2 instrumentation records no resource fields;
			// the X-Ray SDK's whitelist (used by its SDK v1 handlers) names
			// them. Ours must be among those names.
			if len(c.resource) == 0 || c.service == "Kinesis" {
				return // not in the whitelist
			}
			wl := whitelisted(t, c.service, c.operation)
			for k := range c.resource {
				assert.True(t, wl[k], "aws.%s is not an X-Ray SDK field for %s %s (have %v)", k, c.service, c.operation, wl)
			}
		})
	}
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}
