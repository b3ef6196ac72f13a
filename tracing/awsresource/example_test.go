package awsresource_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/o11y-go/o11y/tracing/awsresource"
	"go.opentelemetry.io/otel/attribute"
)

// Lambda is detected from its environment variables, passed in through
// Getenv (the root package passes os.Getenv).
func ExampleDetect() {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":    "resize-images",
		"AWS_LAMBDA_FUNCTION_VERSION": "7",
		"AWS_REGION":                  "eu-west-1",
	}
	res, err := awsresource.Detect(context.Background(), awsresource.Options{
		ServiceName: "images",
		Environment: "prod",
		Getenv:      func(k string) string { return env[k] },
	})
	if err != nil {
		fmt.Println("detection problem:", err) // report it; res is still usable
	}
	for _, k := range []string{"service.name", "deployment.environment.name", "cloud.platform", "cloud.region", "faas.name", "faas.version"} {
		v, _ := res.Set().Value(attribute.Key(k))
		fmt.Printf("%s=%s\n", k, v.String())
	}
	// Output:
	// service.name=images
	// deployment.environment.name=prod
	// cloud.platform=aws_lambda
	// cloud.region=eu-west-1
	// faas.name=resize-images
	// faas.version=7
}

// On ECS the task metadata endpoint v4 is read; here a test server stands in
// for it.
func ExampleDetect_ecs() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v4/c1/task" {
			fmt.Fprint(w, `{"Cluster":"prod","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/prod/0a1b","Family":"api","Revision":"3","LaunchType":"EC2"}`)
			return
		}
		fmt.Fprint(w, `{"Name":"api","DockerId":"d0c","Image":"api:1.4","LogDriver":"awslogs","LogOptions":{"awslogs-group":"/ecs/api"}}`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := awsresource.Detect(ctx, awsresource.Options{
		ServiceName: "api",
		Getenv: func(k string) string {
			if k == "ECS_CONTAINER_METADATA_URI_V4" {
				return srv.URL + "/v4/c1"
			}
			return ""
		},
	})
	if err != nil {
		fmt.Println(err)
	}
	for _, k := range []string{"aws.ecs.cluster.arn", "aws.ecs.launchtype", "container.image.tag"} {
		v, _ := res.Set().Value(attribute.Key(k))
		fmt.Printf("%s=%s\n", k, v.String())
	}
	fmt.Println(awsresource.Origin(res), awsresource.LogGroupNames(res))
	// Output:
	// aws.ecs.cluster.arn=arn:aws:ecs:us-east-1:123456789012:cluster/prod
	// aws.ecs.launchtype=ec2
	// container.image.tag=1.4
	// AWS::ECS::EC2 [/ecs/api]
}
