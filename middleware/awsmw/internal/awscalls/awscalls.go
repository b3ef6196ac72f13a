// Package awscalls is the set of real aws-sdk-go-v2 calls the awsmw tests
// (and the otelaws comparison module, otelawstest) make against
// internal/awsfake, with what X-Ray must show for each, and the golden-file
// helpers they share. Test support only.
package awscalls

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
)

const (
	QueueURL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
	TopicARN = "arn:aws:sns:eu-west-1:111122223333:order-events"
)

// noDelay retries at once: the tests count retries, they do not wait.
type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// Config is what config.LoadDefaultConfig would give, pointed at the fake
// endpoint, with the standard retryer (3 attempts) minus its delays.
func Config(endpoint string) aws.Config {
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

// Call is one real SDK call and what X-Ray must show for it.
type Call struct {
	Name      string // golden file
	Service   string // X-Ray name (and aws-sdk-go-v2 service id)
	Operation string
	Resource  map[string]any // resource fields of the aws block
	Status    int
	Fault     bool
	Error     bool
	Throttle  bool
	Retries   int
	Run       func(ctx context.Context, cfg aws.Config) error
}

// Failed reports whether the call returns an error.
func (c Call) Failed() bool { return c.Fault || c.Error }

func key() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "42"}}
}

// GetItem is a DynamoDB GetItem on table.
func GetItem(table string) func(context.Context, aws.Config) error {
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

// Calls are the calls every path is checked with: DynamoDB
// GetItem/PutItem/Query, a throttled GetItem (3 attempts), a failing
// PutItem (500, 3 attempts), a not-found GetItem; S3 PutObject/GetObject;
// SQS SendMessage/ReceiveMessage; SNS Publish; Lambda Invoke; Secrets
// Manager GetSecretValue; Kinesis PutRecord.
func Calls() []Call {
	table := map[string]any{"table_name": "orders"}
	object := map[string]any{"bucket_name": "photos", "key": "cats/1.jpg"}
	queue := map[string]any{"queue_url": QueueURL}
	return []Call{
		{Name: "dynamodb_getitem", Service: "DynamoDB", Operation: "GetItem", Resource: table, Status: 200, Run: GetItem("orders")},
		{Name: "dynamodb_putitem", Service: "DynamoDB", Operation: "PutItem", Resource: table, Status: 200, Run: putItem("orders")},
		{Name: "dynamodb_query", Service: "DynamoDB", Operation: "Query", Resource: table, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := dynamodb.NewFromConfig(cfg).Query(ctx, &dynamodb.QueryInput{
					TableName:                 aws.String("orders"),
					KeyConditionExpression:    aws.String("id = :id"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": &ddbtypes.AttributeValueMemberS{Value: "42"}},
				})
				return err
			}},
		{Name: "dynamodb_getitem_throttled", Service: "DynamoDB", Operation: "GetItem", Resource: map[string]any{"table_name": "hot"},
			Status: 400, Error: true, Throttle: true, Retries: 2, Run: GetItem("hot")},
		{Name: "dynamodb_putitem_fault", Service: "DynamoDB", Operation: "PutItem", Resource: map[string]any{"table_name": "broken"},
			Status: 500, Fault: true, Retries: 2, Run: putItem("broken")},
		{Name: "dynamodb_getitem_not_found", Service: "DynamoDB", Operation: "GetItem", Resource: map[string]any{"table_name": "missing"},
			Status: 400, Error: true, Run: GetItem("missing")},
		{Name: "s3_putobject", Service: "S3", Operation: "PutObject", Resource: object, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := s3Client(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/1.jpg"), Body: strings.NewReader("hello")})
				return err
			}},
		{Name: "s3_getobject", Service: "S3", Operation: "GetObject", Resource: object, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				out, err := s3Client(cfg).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/1.jpg")})
				if err == nil {
					out.Body.Close()
				}
				return err
			}},
		{Name: "sqs_sendmessage", Service: "SQS", Operation: "SendMessage", Resource: queue, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(QueueURL), MessageBody: aws.String("order placed")})
				return err
			}},
		{Name: "sqs_receivemessage", Service: "SQS", Operation: "ReceiveMessage", Resource: queue, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl:                    aws.String(QueueURL),
					MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAWSTraceHeader},
				})
				return err
			}},
		{Name: "sns_publish", Service: "SNS", Operation: "Publish", Resource: map[string]any{"topic_arn": TopicARN}, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(TopicARN), Message: aws.String("order placed")})
				return err
			}},
		{Name: "lambda_invoke", Service: "Lambda", Operation: "Invoke", Resource: map[string]any{"function_name": "fulfil-order"}, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fulfil-order"), Payload: []byte(`{}`)})
				return err
			}},
		{Name: "secretsmanager_getsecretvalue", Service: "SecretsManager", Operation: "GetSecretValue", Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db-password")})
				return err
			}},
		{Name: "kinesis_putrecord", Service: "Kinesis", Operation: "PutRecord", Resource: map[string]any{"stream_name": "orders"}, Status: 200,
			Run: func(ctx context.Context, cfg aws.Config) error {
				_, err := kinesis.NewFromConfig(cfg).PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("o-1"), Data: []byte("x")})
				return err
			}},
	}
}

// Normalise decodes a document and replaces the fields that change from
// run to run (ids, times).
func Normalise(t testing.TB, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("document: %v: %s", err, doc)
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

// Golden compares m with testdata/<name>.json, or writes it with update.
func Golden(t testing.TB, update bool, name string, m map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	path := filepath.Join("testdata", name+".json")
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden %s (run the test with -update): %v", path, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden:\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// Get walks m along path.
func Get(m map[string]any, path ...string) any {
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
