package awsresource

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// attrs flattens a resource for comparisons.
func attrs(res *resource.Resource) map[string]any {
	out := map[string]any{}
	for _, kv := range res.Attributes() {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// ecsServer serves task metadata v4 fixtures at /v4/id and /v4/id/task.
func ecsServer(t *testing.T, container, task string, h http.HandlerFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(file string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if h != nil {
				h(w, r)
				return
			}
			b, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		}
	}
	mux.HandleFunc("/v4/abc", serve(container))
	mux.HandleFunc("/v4/abc/task", serve(task))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/v4/abc"
}

func TestDetectECS(t *testing.T) {
	tests := []struct {
		name      string
		container string
		task      string
		want      map[string]any
		absent    []string
	}{
		{
			name: "fargate", container: "fargate-container.json", task: "fargate-task.json",
			want: map[string]any{
				"cloud.provider":          "aws",
				"cloud.platform":          "aws_ecs",
				"cloud.region":            "us-west-2",
				"cloud.account.id":        "111122223333",
				"cloud.availability_zone": "us-west-2a",
				"cloud.resource_id":       "arn:aws:ecs:us-west-2:111122223333:container/05966557-f16c-49cb-9352-24b3a0dcd0e1",
				"aws.ecs.cluster.arn":     "arn:aws:ecs:us-west-2:111122223333:cluster/default",
				"aws.ecs.task.arn":        "arn:aws:ecs:us-west-2:111122223333:task/default/cd189a933e5849daa93386466019ab50",
				"aws.ecs.task.id":         "cd189a933e5849daa93386466019ab50",
				"aws.ecs.task.family":     "curltest",
				"aws.ecs.task.revision":   "2",
				"aws.ecs.launchtype":      "fargate",
				"aws.ecs.container.arn":   "arn:aws:ecs:us-west-2:111122223333:container/05966557-f16c-49cb-9352-24b3a0dcd0e1",
				"container.name":          "curl",
				"container.id":            "cd189a933e5849daa93386466019ab50-2495160603",
				"container.image.name":    "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest",
				"container.image.tag":     "latest",
				"container.image.tags":    []string{"latest"},
				"aws.log.group.names":     []string{"/ecs/containerlogs"},
				"aws.log.group.arns":      []string{"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/containerlogs:*"},
				"aws.log.stream.names":    []string{"ecs/curl/cd189a933e5849daa93386466019ab50"},
				"aws.log.stream.arns":     []string{"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/containerlogs:log-stream:ecs/curl/cd189a933e5849daa93386466019ab50"},
			},
			absent: []string{"aws.ecs.service.name"},
		},
		{
			name: "ec2 short cluster name, service, digest image, awslogs without stream", container: "ec2-container.json", task: "ec2-task.json",
			want: map[string]any{
				"cloud.platform":        "aws_ecs",
				"cloud.region":          "us-west-2",
				"cloud.account.id":      "111122223333",
				"aws.ecs.cluster.arn":   "arn:aws:ecs:us-west-2:111122223333:cluster/default",
				"aws.ecs.launchtype":    "ec2",
				"aws.ecs.service.name":  "MyService",
				"aws.ecs.task.revision": "26",
				"container.image.name":  "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest",
				"container.image.tag":   "v1.4.2",
				"aws.log.group.names":   []string{"/ecs/metadata"},
				"aws.log.group.arns":    []string{"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/metadata:*"},
			},
			absent: []string{"aws.log.stream.names", "aws.log.stream.arns"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri := ecsServer(t, tc.container, tc.task, nil)
			res, err := Detect(context.Background(), Options{
				ServiceName: "checkout",
				Getenv:      env(map[string]string{"ECS_CONTAINER_METADATA_URI_V4": uri}),
				Timeout:     10 * time.Second, // the 300 ms default is for production, not a loaded CI machine
			})
			require.NoError(t, err)
			got := attrs(res)
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, got, k)
			}
			assert.Equal(t, "checkout", got["service.name"])
		})
	}
}

func TestDetectECSFailures(t *testing.T) {
	slow := make(chan struct{})
	defer close(slow)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantErr string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "HTTP 500"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, "invalid character"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		}, "deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri := ecsServer(t, "", "", tc.handler)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			start := time.Now()
			res, err := Detect(ctx, Options{ServiceName: "svc", ECSMetadataURI: uri})
			assert.Less(t, time.Since(start), time.Second)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			require.NotNil(t, res)
			got := attrs(res)
			assert.Equal(t, "svc", got["service.name"], "service attributes survive")
			assert.Equal(t, "aws_ecs", got["cloud.platform"])
			assert.NotContains(t, got, "aws.ecs.task.arn")
		})
	}
}

func TestDetectECSPartial(t *testing.T) {
	// Task endpoint fails, container endpoint works: container fields and
	// region/account from the container ARN are kept.
	uri := ecsServer(t, "", "", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/task") {
			http.Error(w, "nope", http.StatusNotFound)
			return
		}
		b, _ := os.ReadFile("testdata/fargate-container.json")
		_, _ = w.Write(b)
	})
	res, err := Detect(context.Background(), Options{ECSMetadataURI: uri, Timeout: 10 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "task metadata")
	got := attrs(res)
	assert.Equal(t, "curl", got["container.name"])
	assert.Equal(t, "111122223333", got["cloud.account.id"])
	assert.Equal(t, []string{"/ecs/containerlogs"}, got["aws.log.group.names"])
}

func TestDetectPlatforms(t *testing.T) {
	nsFile := filepath.Join(t.TempDir(), "namespace")
	require.NoError(t, os.WriteFile(nsFile, []byte("shop\n"), 0o600))
	tests := []struct {
		name    string
		opts    Options
		want    map[string]any
		absent  []string
		wantErr string
	}{
		{
			name:   "nothing detected off AWS",
			opts:   Options{Getenv: env(nil)},
			want:   map[string]any{"telemetry.sdk.language": "go", "telemetry.sdk.name": "opentelemetry"},
			absent: []string{"cloud.provider", "cloud.platform", "cloud.region"},
		},
		{
			name: "lambda",
			opts: Options{Getenv: env(map[string]string{
				"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "eu-west-1",
				"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/25/[$LATEST]abc",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
			})},
			want: map[string]any{
				"cloud.provider": "aws", "cloud.platform": "aws_lambda", "cloud.region": "eu-west-1",
				"faas.name": "fn", "faas.version": "$LATEST", "faas.instance": "2026/11/25/[$LATEST]abc",
				"faas.max_memory": int64(128 << 20), "aws.log.group.names": []string{"/aws/lambda/fn"},
			},
		},
		{
			name: "app runner forced",
			opts: Options{Platform: "apprunner", Getenv: env(map[string]string{"AWS_REGION": "us-east-1", "PORT": "8080"})},
			want: map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_app_runner", "cloud.region": "us-east-1"},
		},
		{
			name:   "app runner forced without region",
			opts:   Options{Platform: "aws_app_runner"},
			want:   map[string]any{"cloud.platform": "aws_app_runner"},
			absent: []string{"cloud.region"},
		},
		{
			name: "eks from env and namespace file",
			opts: Options{NamespaceFile: nsFile, Getenv: env(map[string]string{"KUBERNETES_SERVICE_HOST": "10.100.0.1", "AWS_REGION": "us-east-2"})},
			want: map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_eks", "cloud.region": "us-east-2", "k8s.namespace.name": "shop"},
		},
		{
			name:   "kubernetes without AWS evidence is not EKS",
			opts:   Options{NamespaceFile: nsFile, Getenv: env(map[string]string{"KUBERNETES_SERVICE_HOST": "10.100.0.1"})},
			want:   map[string]any{"k8s.namespace.name": "shop"},
			absent: []string{"cloud.platform", "cloud.provider"},
		},
		{
			name:   "platform none skips detection",
			opts:   Options{Platform: "none", Getenv: env(map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "fn"})},
			absent: []string{"cloud.platform", "faas.name"},
		},
		{
			name:    "unknown platform reported",
			opts:    Options{Platform: "gcp"},
			absent:  []string{"cloud.platform"},
			wantErr: `unknown platform "gcp"`,
		},
		{
			name:    "ecs forced without endpoint",
			opts:    Options{Platform: "ecs", Getenv: env(map[string]string{"AWS_REGION": "ap-south-1"})},
			want:    map[string]any{"cloud.platform": "aws_ecs", "cloud.region": "ap-south-1"},
			wantErr: "no task metadata endpoint",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Detect(context.Background(), tc.opts)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			got := attrs(res)
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, got, k)
			}
			assert.True(t, strings.HasPrefix(got["service.name"].(string), "unknown_service:"))
		})
	}
}

func TestServiceAndUserAttributes(t *testing.T) {
	uri := ecsServer(t, "fargate-container.json", "fargate-task.json", nil)
	res, err := Detect(context.Background(), Options{
		ServiceName:    "checkout",
		ServiceVersion: "1.2.3",
		Environment:    "prod",
		ECSMetadataURI: uri,
		Timeout:        10 * time.Second,
		Attributes: map[string]string{
			"service.name":           "ignored-explicit-wins",
			"team":                   "payments",
			"aws.ecs.task.family":    "user-family",            // user wins
			"aws.log.group.names":    "/a&/b",                  // converted to a list
			"faas.max_memory":        "x",                      // not detected: plain string
			"telemetry.sdk.language": "cobol",                  // protected
			"aws.ecs.launchtype":     "FARGATE-from-user-conf", // user wins
		},
	})
	require.NoError(t, err)
	got := attrs(res)
	assert.Equal(t, "checkout", got["service.name"])
	assert.Equal(t, "1.2.3", got["service.version"])
	assert.Equal(t, "prod", got["deployment.environment.name"])
	assert.Equal(t, "prod", got["deployment.environment"])
	assert.Equal(t, "payments", got["team"])
	assert.Equal(t, "user-family", got["aws.ecs.task.family"])
	assert.Equal(t, []string{"/a", "/b"}, got["aws.log.group.names"])
	assert.Equal(t, "x", got["faas.max_memory"])
	assert.Equal(t, "go", got["telemetry.sdk.language"])
	assert.Equal(t, "FARGATE-from-user-conf", got["aws.ecs.launchtype"])

	// Merging with the SDK default resource must not fail on schema URLs.
	merged, err := resource.Merge(resource.Default(), res)
	require.NoError(t, err)
	v, _ := merged.Set().Value("service.name")
	assert.Equal(t, "checkout", v.AsString())
}

func TestUserAttributeTypeConflict(t *testing.T) {
	res, err := Detect(context.Background(), Options{
		Getenv:     env(map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}),
		Attributes: map[string]string{"faas.max_memory": "lots", "deployment.environment": "staging"},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "faas.max_memory")
	got := attrs(res)
	assert.Equal(t, int64(256<<20), got["faas.max_memory"], "detected value kept")
	assert.Equal(t, "staging", got["deployment.environment.name"], "old key mirrored to the new one")
	assert.Equal(t, "staging", got["deployment.environment"])
}

func TestDetectEC2(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
		_, _ = w.Write([]byte("token-123"))
	})
	requireToken := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "token-123" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/latest/meta-data/instance-id", requireToken(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("i-0123456789abcdef0"))
	}))
	mux.HandleFunc("/latest/meta-data/hostname", requireToken(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ip-10-0-0-1.ec2.internal"))
	}))
	mux.HandleFunc("/latest/dynamic/instance-identity/document", requireToken(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"accountId":"123456789012","architecture":"x86_64","availabilityZone":"us-east-1a",
			"imageId":"ami-0abcdef1234567890","instanceId":"i-0123456789abcdef0","instanceType":"t3.micro",
			"pendingTime":"2026-11-25T10:00:00Z","privateIp":"10.0.0.1","region":"us-east-1","version":"2017-09-30"}`))
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := Detect(context.Background(), Options{DetectEC2: true, IMDSEndpoint: srv.URL, Timeout: 2 * time.Second})
	require.NoError(t, err)
	got := attrs(res)
	for k, v := range map[string]any{
		"cloud.provider": "aws", "cloud.platform": "aws_ec2", "cloud.region": "us-east-1",
		"cloud.availability_zone": "us-east-1a", "cloud.account.id": "123456789012",
		"host.id": "i-0123456789abcdef0", "host.type": "t3.micro", "host.image.id": "ami-0abcdef1234567890",
		"host.name": "ip-10-0-0-1.ec2.internal",
	} {
		assert.Equal(t, v, got[k], k)
	}

	// EKS on an EC2 node: IMDS is the AWS evidence.
	res, err = Detect(context.Background(), Options{
		DetectEC2: true, IMDSEndpoint: srv.URL, Timeout: 2 * time.Second,
		NamespaceFile: filepath.Join(t.TempDir(), "missing"),
		Getenv:        env(map[string]string{"KUBERNETES_SERVICE_HOST": "10.100.0.1"}),
	})
	require.NoError(t, err)
	got = attrs(res)
	assert.Equal(t, "aws_eks", got["cloud.platform"])
	assert.Equal(t, "i-0123456789abcdef0", got["host.id"])
}

func TestDetectEC2Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	start := time.Now()
	res, err := Detect(context.Background(), Options{ServiceName: "svc", DetectEC2: true, IMDSEndpoint: "http://" + addr})
	assert.Less(t, time.Since(start), time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "EC2")
	got := attrs(res)
	assert.Equal(t, "svc", got["service.name"])
	assert.NotContains(t, got, "cloud.platform")
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		kvs  []attribute.KeyValue
		want string
	}{
		{nil, ""},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_ecs"), attribute.String("aws.ecs.launchtype", "fargate")}, "AWS::ECS::Fargate"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_ecs"), attribute.String("aws.ecs.launchtype", "ec2")}, "AWS::ECS::EC2"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_ecs")}, "AWS::ECS::Container"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_app_runner")}, "AWS::AppRunner::Service"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_eks")}, "AWS::EKS::Container"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_ec2")}, "AWS::EC2::Instance"},
		{[]attribute.KeyValue{attribute.String("cloud.platform", "aws_lambda")}, ""},
		{[]attribute.KeyValue{attribute.String("cloud.provider", "gcp"), attribute.String("cloud.platform", "aws_ec2")}, ""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Origin(resource.NewSchemaless(tc.kvs...)), "%v", tc.kvs)
	}
	assert.Equal(t, "", Origin(nil))
}

func TestLogGroupNames(t *testing.T) {
	assert.Nil(t, LogGroupNames(nil))
	assert.Nil(t, LogGroupNames(resource.Empty()))
	assert.Equal(t, []string{"/a", "/b"}, LogGroupNames(resource.NewSchemaless(attribute.StringSlice("aws.log.group.names", []string{"/a", "/b"}))))
	assert.Equal(t, []string{"/a", "/b"}, LogGroupNames(resource.NewSchemaless(attribute.String("aws.log.group.names", "/a&/b"))))
}

func TestSplitImage(t *testing.T) {
	tests := []struct{ in, name, tag string }{
		{"nginx", "nginx", ""},
		{"nginx:1.27", "nginx", "1.27"},
		{"localhost:5000/app", "localhost:5000/app", ""},
		{"localhost:5000/app:v2", "localhost:5000/app", "v2"},
		{"repo@sha256:abc", "repo", ""},
		{"repo:v1@sha256:abc", "repo", "v1"},
		{"", "", ""},
	}
	for _, tc := range tests {
		name, tag := splitImage(tc.in)
		assert.Equal(t, tc.name, name, tc.in)
		assert.Equal(t, tc.tag, tag, tc.in)
	}
}
