package grpcmw_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
)

// Example instruments a server and a client and shows the spans a failing
// call produces.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	sdk, _ := o11y.Start(context.Background(), o11y.Config{
		ServiceName: "orders", Output: io.Discard, DisableGlobals: true, DisableResourceDetection: true,
		Traces: o11y.TracesConfig{Exporter: "none", Sampler: "always_on",
			SpanProcessors: []sdktrace.SpanProcessor{sdktrace.NewSimpleSpanProcessor(spans)}},
		Metrics: o11y.MetricsConfig{Disable: true},
	})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the SDK's share of the stop budget
		defer cancel()
		sdk.Shutdown(ctx)
	}()

	// Server: one option slice covers unary and streaming calls.
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(append(grpcmw.ServerOptions(sdk), grpc.WaitForHandlers(true))...)
	testpb.RegisterTestServiceServer(srv, testService{})
	go srv.Serve(lis)

	// Client: one dial option.
	conn, _ := grpc.NewClient("passthrough:///orders",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithStatsHandler(grpcmw.NewClientHandler(sdk)))

	_, err := testpb.NewTestServiceClient(conn).UnaryCall(context.Background(),
		&testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound)}})
	fmt.Println("caller got:", status.Code(err))

	// The server ends its span after replying; Stop with WaitForHandlers
	// returns once it has.
	conn.Close()
	srv.Stop()
	var lines []string
	for _, s := range spans.GetSpans() {
		code := attribute.NewSet(s.Attributes...)
		v, _ := code.Value("rpc.grpc.status_code")
		lines = append(lines, fmt.Sprintf("%s span %q: rpc.grpc.status_code=%d status=%s",
			s.SpanKind, s.Name, v.AsInt64(), s.Status.Code))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// caller got: NotFound
	// client span "grpc.testing.TestService": rpc.grpc.status_code=5 status=Unset
	// server span "/grpc.testing.TestService/UnaryCall": rpc.grpc.status_code=5 status=Unset
}

// ExampleWithSkip keeps the default health-check filter and adds an admin
// service to it.
func ExampleWithSkip() {
	skip := grpcmw.Or(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/"))
	_ = grpcmw.NewServerHandler(nil, grpcmw.WithSkip(skip))
	for _, m := range []string{"/grpc.health.v1.Health/Check", "/internal.Admin/Drain", "/shop.Orders/Get"} {
		fmt.Println(m, skip(m))
	}
	// Output:
	// /grpc.health.v1.Health/Check true
	// /internal.Admin/Drain true
	// /shop.Orders/Get false
}
