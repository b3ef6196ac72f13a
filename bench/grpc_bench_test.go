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
	"google.golang.org/grpc/stats"
)

// testService answers UnaryCall with a small payload.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testService) UnaryCall(_ context.Context, in *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Username: "orders"}, nil
}

// grpcVariant is one way of instrumenting the server: as its pieces (a
// stats handler and/or a unary interceptor, for the in-process handler
// benchmark) and as server options (for the loopback benchmark).
type grpcVariant struct {
	name  string
	parts func(tb testing.TB) (sh stats.Handler, ui grpc.UnaryServerInterceptor, e *export)
	// build defaults to the parts as server options.
	build func(tb testing.TB) (opts []grpc.ServerOption, e *export)
}

func (v grpcVariant) serverOptions(tb testing.TB) ([]grpc.ServerOption, *export) {
	if v.build != nil {
		return v.build(tb)
	}
	sh, ui, e := v.parts(tb)
	var opts []grpc.ServerOption
	if sh != nil {
		opts = append(opts, grpc.StatsHandler(sh))
	}
	if ui != nil {
		opts = append(opts, grpc.UnaryInterceptor(ui))
	}
	return opts, e
}

var (
	bareGRPC = grpcVariant{name: "bare", parts: func(tb testing.TB) (stats.Handler, grpc.UnaryServerInterceptor, *export) {
		return nil, nil, noExport
	}}
	otelgrpcOTLP = grpcVariant{name: "otelgrpc-otlp", parts: func(tb testing.TB) (stats.Handler, grpc.UnaryServerInterceptor, *export) {
		col := startStandin(tb, "collector")
		tp := otelTracerProvider(tb, col.Addr)
		prop := propagation.NewCompositeTextMapPropagator(xrayprop.Propagator{}, propagation.TraceContext{})
		h := otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(prop))
		return h, nil, &export{flush: func() { _ = tp.ForceFlush(context.Background()) }, sink: col}
	}}
	xraySDKGRPC = grpcVariant{name: "xray-sdk", parts: func(tb testing.TB) (stats.Handler, grpc.UnaryServerInterceptor, *export) {
		d := startXRayDaemon(tb)
		return nil, xray.UnaryServerInterceptor(), &export{flush: func() {}, sink: d}
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
			opts, e := v.serverOptions(b)
			client := startGRPC(b, opts)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req := &testgrpc.SimpleRequest{}
			if _, err := client.UnaryCall(ctx, req); err != nil { // warm the connection
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				if _, err := client.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			timedFlush(b, e)
			cpu.report(b)
			reportLoss(b, e, b.N+1) // +1: the warm-up call
		})
	}
}
