package xraysampling_test

import (
	"context"
	"fmt"
	"time"

	"github.com/o11y-go/o11y/tracing/xraysampling"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Local rules: health checks are never sampled, everything else follows the
// default rule (here 1 request per second and no percentage).
func Example() {
	rules := []byte(`{"version": 2,
	  "default": {"fixed_target": 1, "rate": 0},
	  "rules": [{"description": "health", "http_method": "GET", "url_path": "/health*",
	             "fixed_target": 0, "rate": 0}]}`)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s, err := xraysampling.New(xraysampling.Options{
		Rules: rules,
		Now:   func() time.Time { return now }, // a fixed clock: one reservoir second
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := func(method, path string) sdktrace.SamplingParameters {
		return sdktrace.SamplingParameters{
			ParentContext: context.Background(),
			Attributes: []attribute.KeyValue{
				attribute.String("http.request.method", method),
				attribute.String("url.path", path),
			},
		}
	}
	for _, path := range []string{"/health", "/orders", "/orders", "/healthz"} {
		p := req("GET", path)
		fmt.Println(path, s.RuleName(p), s.ShouldSample(p).Decision == sdktrace.RecordAndSample)
	}
	// Output:
	// /health health false
	// /orders Default true
	// /orders Default false
	// /healthz health false
}

// Centralized rules come through the X-Ray daemon's TCP proxy; until they
// arrive (or when it is unreachable) the local rules decide. Start never
// waits for the network.
func ExampleNew_centralized() {
	s, err := xraysampling.New(xraysampling.Options{
		ServiceName:  "checkout",
		ServiceType:  "AWS::ECS::Fargate",
		Centralized:  true,
		ProxyAddress: "127.0.0.1:1", // nothing listens: errors go to ErrorHandler
		ErrorHandler: func(error) {},
	})
	if err != nil {
		fmt.Println(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // shutdown budget
	defer cancel()
	defer s.Shutdown(ctx)
	fmt.Println(s.Description())
	// Output: XRaySampler{rules=1,centralized}
}
