package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	xrayprop "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

// testService answers UnaryCall with a small payload.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testService) UnaryCall(_ context.Context, in *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Username: "orders"}, nil
}

// grpcVariant builds server options for one instrumentation, plus a flush.
type grpcVariant struct {
	name  string
	build func(tb testing.TB) (opts []grpc.ServerOption, flush func())
}

var (
	bareGRPC = grpcVariant{"bare", func(tb testing.TB) ([]grpc.ServerOption, func()) {
		return nil, func() {}
	}}
	otelgrpcOTLP = grpcVariant{"otelgrpc-otlp", func(tb testing.TB) ([]grpc.ServerOption, func()) {
		col := startStandin(tb, "collector")
		tp := otelTracerProvider(tb, col.Addr)
		prop := propagation.NewCompositeTextMapPropagator(xrayprop.Propagator{}, propagation.TraceContext{})
		h := otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(prop))
		return []grpc.ServerOption{grpc.StatsHandler(h)}, func() { _ = tp.ForceFlush(context.Background()) }
	}}
	xraySDKGRPC = grpcVariant{"xray-sdk", func(tb testing.TB) ([]grpc.ServerOption, func()) {
		d := startStandin(tb, "daemon")
		if err := xray.Configure(xray.Config{DaemonAddr: d.Addr, SamplingStrategy: alwaysSample{}}); err != nil {
			tb.Fatal(err)
		}
		return []grpc.ServerOption{grpc.UnaryInterceptor(xray.UnaryServerInterceptor())}, func() {}
	}}
)

func grpcVariants() []grpcVariant {
	return append([]grpcVariant{bareGRPC, otelgrpcOTLP, xraySDKGRPC}, o11yGRPCVariants()...)
}

// startGRPC serves the test service with opts on loopback TCP and returns a client.
func startGRPC(tb testing.TB, opts []grpc.ServerOption) testgrpc.TestServiceClient {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, testService{})
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return testgrpc.NewTestServiceClient(conn)
}

// BenchmarkGRPCUnary measures one unary call over loopback TCP with the
// server instrumented by each variant (the client is bare in every case).
func BenchmarkGRPCUnary(b *testing.B) {
	for _, v := range grpcVariants() {
		b.Run(v.name, func(b *testing.B) {
			opts, flush := v.build(b)
			client := startGRPC(b, opts)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req := &testgrpc.SimpleRequest{}
			if _, err := client.UnaryCall(ctx, req); err != nil { // warm the connection
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := client.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			flush()
		})
	}
}
