package xraysegment

import (
	"flag"
	"strings"
	"testing"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const goStack = "goroutine 7 [running]:\n" +
	"main.(*Store).Get(0xc000010000, {0x6b1f20, 0x3})\n" +
	"\t/src/app/store.go:42 +0x1d\n" +
	"main.handler({0x7f0a, 0xc0000a0000}, 0xc0000b2000)\n" +
	"\t/src/app/main.go:17 +0x45\n" +
	"net/http.HandlerFunc.ServeHTTP(...)\n" +
	"\t/usr/local/go/src/net/http/server.go:2294\n" +
	"created by net/http.(*Server).Serve in goroutine 1\n" +
	"\t/usr/local/go/src/net/http/server.go:3454 +0x485\n"

type goldenCase struct {
	name  string
	cfg   Config
	stub  tracetest.SpanStub
	check func(t *testing.T, m map[string]any, seg *xray.Segment)
}

func stub(kind trace.SpanKind, parent trace.SpanContext, attrs ...attribute.KeyValue) tracetest.SpanStub {
	return tracetest.SpanStub{
		Name:        "span",
		SpanContext: spanCtx(testSpanID),
		Parent:      parent,
		SpanKind:    kind,
		StartTime:   testStart,
		EndTime:     testEnd,
		Attributes:  attrs,
		Resource:    plainResource(),
	}
}

func with(s tracetest.SpanStub, f func(*tracetest.SpanStub)) tracetest.SpanStub {
	f(&s)
	return s
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{
			name: "t1_server_stable_ecs",
			stub: with(stub(trace.SpanKindServer, trace.SpanContext{},
				attribute.String("http.request.method", "GET"),
				attribute.String("url.scheme", "https"),
				attribute.String("server.address", "api.example.com"),
				attribute.String("url.path", "/orders/42"),
				attribute.Int("http.response.status_code", 200),
				attribute.String("http.route", "/orders/{id}"),
				attribute.String("client.address", "203.0.113.7"),
				attribute.String("network.peer.address", "10.0.0.1"),
				attribute.String("user_agent.original", "curl/8.5.0"),
				attribute.Int("http.response.body.size", 57),
			), func(s *tracetest.SpanStub) { s.Name = "GET /orders/{id}"; s.Resource = ecsResource() }),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Nil(t, m["type"])
				assert.Nil(t, m["parent_id"])
				assert.Equal(t, "orders", seg.Name)
				assert.Equal(t, "AWS::ECS::Fargate", seg.Origin)
				assert.Equal(t, "https://api.example.com/orders/42", seg.HTTP.Request.URL)
				assert.Equal(t, 200, seg.HTTP.Response.Status)
				assert.Equal(t, 57, seg.HTTP.Response.ContentLength)
				assert.Equal(t, "203.0.113.7", seg.HTTP.Request.ClientIP)
				assert.True(t, seg.HTTP.Request.XForwardedFor)
				assert.False(t, seg.HTTP.Request.Traced)
				assert.Equal(t, "fargate", get(m, "aws.ecs.launch_type"))
				assert.Equal(t, "/ecs/orders", get(m, "aws.cloudwatch_logs.0.log_group"))
				assert.Equal(t, "opentelemetry for go", get(m, "aws.xray.sdk"))
				assert.Equal(t, "1.4.2", seg.Service.Version)
				assert.Equal(t, "orders", seg.Metadata["default"]["otel.resource.service.name"])
				assert.Equal(t, "/orders/{id}", seg.Metadata["default"]["http.route"])
				assert.NotContains(t, seg.Metadata["default"], "http.request.method", "consumed by http")
			},
		},
		{
			name: "t1_server_legacy_semconv",
			stub: stub(trace.SpanKindServer, remoteParent(),
				attribute.String("http.method", "POST"),
				attribute.String("http.scheme", "http"),
				attribute.String("http.host", "orders.internal:8080"),
				attribute.String("http.target", "/orders?limit=5"),
				attribute.Int("http.status_code", 201),
				attribute.String("http.user_agent", "Go-http-client/1.1"),
				attribute.String("net.peer.ip", "10.1.2.3"),
				attribute.String("http.client_ip", "10.1.2.3"),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "7f3a9c2e1b4d5a60", seg.ParentID)
				assert.Nil(t, m["type"])
				assert.Equal(t, "POST", seg.HTTP.Request.Method)
				assert.Equal(t, "http://orders.internal:8080/orders?limit=5", seg.HTTP.Request.URL)
				assert.Equal(t, 201, seg.HTTP.Response.Status)
				assert.Equal(t, "Go-http-client/1.1", seg.HTTP.Request.UserAgent)
				assert.False(t, seg.HTTP.Request.XForwardedFor, "client ip is the socket peer")
				assert.Nil(t, m["origin"])
			},
		},
		{
			name: "t2_client_503",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("peer.service", "inventory"),
				attribute.String("http.request.method", "GET"),
				attribute.String("url.full", "https://inv.internal:8443/items?id=1"),
				attribute.Int("http.response.status_code", 503),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "subsegment", seg.Type)
				assert.Equal(t, "7f3a9c2e1b4d5a60", seg.ParentID)
				assert.Equal(t, "remote", seg.Namespace)
				assert.Equal(t, "inventory", seg.Name)
				assert.Equal(t, "https://inv.internal:8443/items?id=1", seg.HTTP.Request.URL)
				assert.True(t, seg.HTTP.Request.Traced)
				assert.Equal(t, 503, seg.HTTP.Response.Status)
				assert.True(t, seg.Fault)
				assert.False(t, seg.Error)
				assert.Nil(t, m["aws"], "no resource blocks on subsegments")
			},
		},
		{
			name: "t3_client_429",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("http.request.method", "GET"),
				attribute.String("server.address", "inv.internal"),
				attribute.Int("server.port", 8443),
				attribute.String("url.full", "https://inv.internal:8443/items"),
				attribute.Int("http.response.status_code", 429),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "inv.internal", seg.Name, "server.address names client subsegments")
				assert.True(t, seg.Error)
				assert.True(t, seg.Throttle)
				assert.False(t, seg.Fault)
			},
		},
		{
			name: "t4_internal_error_status",
			stub: with(stub(trace.SpanKindInternal, localParent()), func(s *tracetest.SpanStub) {
				s.Name = "compute"
				s.Status = sdktrace.Status{Code: codes.Error, Description: "boom"}
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "subsegment", seg.Type)
				assert.Empty(t, seg.Namespace)
				assert.Equal(t, "compute", seg.Name)
				assert.True(t, seg.Fault)
				assert.Equal(t, "boom", seg.Cause.Exceptions[0].Message)
				assert.False(t, seg.Cause.Exceptions[0].Remote)
				assert.Nil(t, m["http"])
			},
		},
		{
			name: "t5_client_exception_go_stack",
			stub: with(stub(trace.SpanKindClient, localParent(), attribute.String("server.address", "db.internal")), func(s *tracetest.SpanStub) {
				s.Events = []sdktrace.Event{{
					Name: "exception",
					Time: testStart,
					Attributes: []attribute.KeyValue{
						attribute.String("exception.type", "*net.OpError"),
						attribute.String("exception.message", "dial tcp: timeout"),
						attribute.String("exception.stacktrace", goStack),
					},
				}}
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				ex := seg.Cause.Exceptions[0]
				assert.Len(t, ex.ID, 16)
				assert.Equal(t, "*net.OpError", ex.Type)
				assert.Equal(t, "dial tcp: timeout", ex.Message)
				assert.True(t, ex.Remote)
				assert.False(t, seg.Fault || seg.Error || seg.Throttle)
				if assert.Len(t, ex.Stack, 4) {
					assert.Equal(t, "main.(*Store).Get", ex.Stack[0].Label)
					assert.Equal(t, "/src/app/store.go", ex.Stack[0].Path)
					assert.Equal(t, 42, ex.Stack[0].Line)
					assert.Equal(t, "net/http.HandlerFunc.ServeHTTP", ex.Stack[2].Label)
					assert.Equal(t, 2294, ex.Stack[2].Line)
					assert.Equal(t, "net/http.(*Server).Serve", ex.Stack[3].Label)
				}
			},
		},
		{
			name: "t6_aws_dynamodb",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("rpc.system", "aws-api"),
				attribute.String("rpc.service", "DynamoDB"),
				attribute.String("rpc.method", "GetItem"),
				attribute.String("aws.region", "eu-west-1"),
				attribute.String("aws.request_id", "REQ123"),
				attribute.StringSlice("aws.dynamodb.table_names", []string{"orders"}),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "aws", seg.Namespace)
				assert.Equal(t, "DynamoDB", seg.Name)
				assert.Equal(t, "GetItem", seg.AWS["operation"])
				assert.Equal(t, "orders", seg.AWS["table_name"])
				assert.Equal(t, "eu-west-1", seg.AWS["region"])
				assert.Equal(t, "REQ123", seg.AWS["request_id"])
			},
		},
		{
			name: "t6_aws_sqs_tables",
			stub: stub(trace.SpanKindProducer, localParent(),
				attribute.String("rpc.system", "aws-api"),
				attribute.String("aws.remote.service", "AWS::SQS"),
				attribute.String("rpc.method", "SendMessage"),
				attribute.String("aws.queue.url", "https://sqs.eu-west-1.amazonaws.com/111122223333/q"),
				attribute.StringSlice("aws.table_name", []string{"a", "b"}),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "SQS", seg.Name)
				assert.Equal(t, "aws", seg.Namespace)
				assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/111122223333/q", seg.AWS["queue_url"])
				assert.Equal(t, []any{"a", "b"}, seg.AWS["table_names"])
			},
		},
		{
			// otelaws v0.72 (semconv 1.43): rpc.system.name, rpc.method
			// "Service/Operation", the queue URL in server.address.
			name: "aws_sqs_semconv143",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("rpc.system.name", "aws-api"),
				attribute.String("rpc.method", "SQS/SendMessage"),
				attribute.String("aws.region", "eu-west-1"),
				attribute.String("messaging.system", "aws_sqs"),
				attribute.String("server.address", "https://sqs.eu-west-1.amazonaws.com/111122223333/q"),
				attribute.Int("http.response.status_code", 200),
				attribute.String("aws.request_id", "REQ1"),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "SQS", seg.Name)
				assert.Equal(t, "aws", seg.Namespace)
				assert.Equal(t, "SendMessage", seg.AWS["operation"])
				assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/111122223333/q", seg.AWS["queue_url"])
				assert.Nil(t, get(m, "http.request"), "no request url, no traced flag on AWS calls")
				assert.Equal(t, 200.0, get(m, "http.response.status"))
			},
		},
		{
			name: "aws_throttle_code",
			stub: with(stub(trace.SpanKindClient, localParent(),
				attribute.String("rpc.system.name", "aws-api"),
				attribute.String("rpc.method", "Secrets Manager/GetSecretValue"),
				attribute.Int("http.response.status_code", 400),
				attribute.String("rpc.response.status_code", "ThrottlingException"),
				attribute.Int("http.request.resend_count", 2),
			), func(s *tracetest.SpanStub) {
				s.Status = sdktrace.Status{Code: codes.Error, Description: "rate exceeded"}
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "SecretsManager", seg.Name)
				assert.Equal(t, "GetSecretValue", seg.AWS["operation"])
				assert.True(t, seg.Error && seg.Throttle && !seg.Fault)
				assert.Equal(t, 2.0, seg.AWS["retries"])
				assert.Equal(t, "ThrottlingException", get(m, "cause.exceptions.0.type"))
			},
		},
		{
			name: "aws_s3_sns_lambda_fields",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("rpc.system", "aws-api"),
				attribute.String("rpc.service", "S3"),
				attribute.String("rpc.method", "GetObject"),
				attribute.String("aws.s3.bucket", "photos"),
				attribute.String("aws.s3.key", "a/b.jpg"),
				attribute.String("aws.sns.topic.arn", "arn:aws:sns:eu-west-1:111122223333:t"),
				attribute.String("faas.invoked_name", "fn"),
				attribute.String("aws.kinesis.stream_name", "st"),
				attribute.Int("http.response.status_code", 503),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "S3", seg.Name)
				assert.Equal(t, "photos", seg.AWS["bucket_name"])
				assert.Equal(t, "a/b.jpg", seg.AWS["key"])
				assert.Equal(t, "arn:aws:sns:eu-west-1:111122223333:t", seg.AWS["topic_arn"])
				assert.Equal(t, "fn", seg.AWS["function_name"])
				assert.Equal(t, "st", seg.AWS["stream_name"])
				assert.True(t, seg.Fault && !seg.Error && !seg.Throttle)
			},
		},
		{
			name: "t7_links",
			stub: with(stub(trace.SpanKindServer, trace.SpanContext{}), func(s *tracetest.SpanStub) {
				s.Links = []sdktrace.Link{{
					SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID}),
					Attributes:  []attribute.KeyValue{attribute.String("k", "v")},
				}, {SpanContext: trace.SpanContext{}}} // invalid: skipped
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				links := m["links"].([]any)
				assert.Len(t, links, 1)
				assert.Equal(t, map[string]any{
					"trace_id":   "1-5759e988-bd862e3fe1be46a994272793",
					"id":         "53995c3f42cd8ad8",
					"attributes": map[string]any{"k": "v"},
				}, links[0])
			},
		},
		{
			name: "t8_name_sanitised",
			stub: with(stub(trace.SpanKindInternal, localParent()), func(s *tracetest.SpanStub) {
				s.Name = "GET /a?b<c>"
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "GET /abc", seg.Name)
			},
		},
		{
			name: "t8_name_long_unicode",
			stub: with(stub(trace.SpanKindInternal, localParent()), func(s *tracetest.SpanStub) {
				s.Name = strings.Repeat("é", 150) + "\\tab\there" // 300 bytes of é
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, strings.Repeat("é", 100), seg.Name, "cut at 200 bytes on a rune boundary")
			},
		},
		{
			name: "t9_user_annotations",
			cfg:  Config{IndexedAttributes: []string{"tenant.id"}},
			stub: stub(trace.SpanKindServer, trace.SpanContext{},
				attribute.String("enduser.id", "u-1"),
				attribute.String("tenant.id", "t1"),
				attribute.Int("order.count", 3),
				attribute.Bool("cache-hit!", true),
				attribute.StringSlice("order.tags", []string{"x"}),
				attribute.StringSlice(AnnotationsKey, []string{"order.count", "cache-hit!", "order.tags"}),
				attribute.String("note", "unindexed"),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "u-1", seg.User)
				assert.Equal(t, map[string]any{"tenant_id": "t1", "order_count": 3.0, "cache_hit_": true}, seg.Annotations)
				md := seg.Metadata["default"]
				assert.Equal(t, "unindexed", md["note"])
				assert.Equal(t, []any{"x"}, md["order.tags"], "slices cannot be annotations")
				assert.NotContains(t, md, AnnotationsKey)
				assert.NotContains(t, md, "tenant.id")
				assert.NotContains(t, md, "enduser.id")
			},
		},
		{
			name: "t11_consumer_remote_parent",
			stub: with(stub(trace.SpanKindConsumer, remoteParent(),
				attribute.String("messaging.system", "aws_sqs"),
				attribute.String("aws.local.service", "order-worker"),
			), func(s *tracetest.SpanStub) { s.Name = "orders process" }),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Nil(t, m["type"])
				assert.Equal(t, "order-worker", seg.Name)
				assert.Equal(t, "7f3a9c2e1b4d5a60", seg.ParentID)
			},
		},
		{
			name: "t11_consumer_local_parent",
			stub: with(stub(trace.SpanKindConsumer, localParent()), func(s *tracetest.SpanStub) { s.Name = "orders process" }),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Nil(t, m["type"])
				assert.Equal(t, "orders process", seg.Name)
			},
		},
		{
			name: "producer_remote_namespace",
			stub: stub(trace.SpanKindProducer, localParent(), attribute.String("server.address", "kafka-1")),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "remote", seg.Namespace)
				assert.Equal(t, "kafka-1", seg.Name)
			},
		},
		{
			name: "segment_name_override",
			cfg:  Config{SegmentName: "orders-api", LogGroupNames: []string{"/app/orders", "/ecs/orders"}},
			stub: with(stub(trace.SpanKindServer, trace.SpanContext{}, attribute.String("aws.local.service", "ignored")),
				func(s *tracetest.SpanStub) { s.Resource = ecsResource() }),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "orders-api", seg.Name)
				assert.Len(t, seg.AWS["cloudwatch_logs"], 2, "de-duplicated")
			},
		},
		{
			name: "root_client_is_segment",
			stub: stub(trace.SpanKindClient, trace.SpanContext{}, attribute.String("http.request.method", "GET"), attribute.String("url.full", "http://x/")),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Nil(t, m["type"])
				assert.Equal(t, "orders", seg.Name)
				assert.False(t, seg.HTTP.Request.Traced, "traced is subsegment-only")
			},
		},
		{
			name: "grpc_client_unavailable",
			stub: stub(trace.SpanKindClient, localParent(),
				attribute.String("rpc.system", "grpc"),
				attribute.String("rpc.service", "inventory.v1.Inventory"),
				attribute.String("rpc.method", "Reserve"),
				attribute.String("server.address", "inventory"),
				attribute.Int("rpc.grpc.status_code", 14),
			),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "inventory", seg.Name)
				assert.Equal(t, "remote", seg.Namespace)
				assert.True(t, seg.Fault)
				assert.Nil(t, m["aws"], "no aws.operation for non-AWS RPC")
			},
		},
		{
			name: "sql_postgres",
			stub: with(stub(trace.SpanKindClient, localParent(),
				attribute.String("db.system", "postgresql"),
				attribute.String("db.name", "shop"),
				attribute.String("server.address", "pg.internal"),
				attribute.Int("server.port", 5432),
				attribute.String("db.statement", "SELECT * FROM orders WHERE id = $1"),
				attribute.String("db.user", "app"),
			), func(s *tracetest.SpanStub) { s.Name = "SELECT shop.orders" }),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "shop@pg.internal", seg.Name)
				assert.Equal(t, "remote", seg.Namespace)
				assert.Equal(t, "postgresql", seg.SQL.DatabaseType)
				assert.Equal(t, "pg.internal:5432/shop", seg.SQL.URL)
				assert.Equal(t, "SELECT * FROM orders WHERE id = $1", seg.SQL.SanitizedQuery)
				assert.Equal(t, "app", seg.SQL.User)
			},
		},
		{
			name: "eks_resource",
			stub: with(stub(trace.SpanKindServer, trace.SpanContext{}), func(s *tracetest.SpanStub) {
				s.Resource = res(
					attribute.String("service.name", "cart"),
					attribute.String("cloud.provider", "aws"),
					attribute.String("cloud.platform", "aws_eks"),
					attribute.String("k8s.cluster.name", "prod"),
					attribute.String("k8s.pod.name", "cart-7d9f"),
					attribute.String("container.id", "abc123"),
					attribute.String("aws.log.group.arns", "arn:aws:logs:eu-west-1:111122223333:log-group:/eks/cart:*"),
				)
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "AWS::EKS::Container", seg.Origin)
				assert.Equal(t, "cart-7d9f", get(m, "aws.eks.pod"))
				assert.Equal(t, "/eks/cart", get(m, "aws.cloudwatch_logs.0.log_group"))
				assert.Equal(t, "o11y for Go", get(m, "aws.xray.sdk"))
			},
		},
		{
			name: "ec2_resource",
			stub: with(stub(trace.SpanKindServer, trace.SpanContext{}), func(s *tracetest.SpanStub) {
				s.Resource = res(
					attribute.String("service.name", "billing"),
					attribute.String("cloud.platform", "aws_ec2"),
					attribute.String("host.id", "i-0abc"),
					attribute.String("host.type", "t3.micro"),
					attribute.String("host.image.id", "ami-123"),
					attribute.String("cloud.availability_zone", "eu-west-1b"),
					attribute.String("cloud.account.id", "111122223333"),
				)
			}),
			check: func(t *testing.T, m map[string]any, seg *xray.Segment) {
				assert.Equal(t, "AWS::EC2::Instance", seg.Origin)
				assert.Equal(t, "i-0abc", get(m, "aws.ec2.instance_id"))
				assert.Equal(t, "111122223333", seg.AWS["account_id"])
			},
		},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			enc := testEncoder(tc.cfg)
			doc := enc.AppendSegment(nil, tc.stub.Snapshot())
			m, seg := checkDoc(t, doc)
			golden(t, tc.name, doc)
			tc.check(t, m, seg)
		})
	}
}

// Keys are screened by length before the indexed-key lookup: same-length
// keys that are not indexed, and keys of 63 bytes or more (they share one
// length bit), must still be told apart.
func TestIndexedKeyLengths(t *testing.T) {
	enc := testEncoder(Config{IndexedAttributes: []string{"tenant.id", strings.Repeat("k", 70)}})
	doc := enc.AppendSegment(nil, stub(trace.SpanKindServer, trace.SpanContext{},
		attribute.String("tenant.id", "t1"),
		attribute.String("tenant.ix", "same length"),
		attribute.String(strings.Repeat("k", 70), "long"),
		attribute.String(strings.Repeat("k", 80), "longer"),
		attribute.String(strings.Repeat("k", 63), "63"),
	).Snapshot())
	_, seg := checkDoc(t, doc)
	assert.Equal(t, map[string]any{"tenant_id": "t1", strings.Repeat("k", 70): "long"}, seg.Annotations)
}
