package grpcmw_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// BenchmarkUnary compares a unary call over bufconn without instrumentation
// and with this package on both sides (sampled and unsampled).
func BenchmarkUnary(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    envOpts
	}{
		{"bare", envOpts{bareServer: true, noClientMW: true}},
		{"grpcmw-sampled", envOpts{}},
		{"grpcmw-server-only", envOpts{noClientMW: true}},
		{"xray-sdk-server-interceptor", envOpts{bareServer: true, noClientMW: true,
			unaryServer: []grpc.UnaryServerInterceptor{xray.UnaryServerInterceptor()}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.o.unaryServer != nil {
				benchXRayDaemon(b)
			}
			e := newEnv(b, bc.o)
			ctx := context.Background()
			req := &testpb.SimpleRequest{ResponseSize: 16}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.client.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
				if i%1024 == 0 {
					e.rec.ResetSpans()
				}
			}
		})
	}
}

// serverRPC drives the server handler through one unary RPC's events the way
// grpc-go does, without a transport.
func serverRPC(h stats.Handler, base context.Context) {
	ctx := h.TagRPC(base, &stats.RPCTagInfo{FullMethodName: "/pkg.Orders/Get"})
	now := time.Now()
	h.HandleRPC(ctx, &stats.InHeader{FullMethod: "/pkg.Orders/Get", RemoteAddr: benchAddr})
	h.HandleRPC(ctx, &stats.Begin{BeginTime: now})
	h.HandleRPC(ctx, &stats.InPayload{Length: 10})
	h.HandleRPC(ctx, &stats.OutPayload{Length: 20})
	h.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: now.Add(time.Millisecond)})
}

var benchAddr = &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 4711}

func incomingCtx() context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(
		":authority", "orders:50051",
		"x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		"user-agent", "grpc-go/1.85.0"))
}

// BenchmarkServerHandler measures the stats handler alone for one unary RPC.
func BenchmarkServerHandler(b *testing.B) {
	for _, sampler := range []string{"always_on", "always_off"} {
		b.Run(sampler, func(b *testing.B) {
			sdk, _ := o11ytest.New(b, func(c *o11y.Config) { c.Traces.Sampler = o11y.SamplerName(sampler); c.Output = discard{} })
			h := grpcmw.NewServerHandler(sdk)
			ctx := incomingCtx()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				serverRPC(h, ctx)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// benchXRayDaemon points aws-xray-sdk-go at a UDP socket nobody reads
// (sample everything, like our always_on test SDK).
func benchXRayDaemon(b *testing.B) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pc.Close() })
	strategy, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1.0},"rules":[]}`))
	if err != nil {
		b.Fatal(err)
	}
	xray.SetLogger(xraylog.NullLogger)
	if err := xray.Configure(xray.Config{DaemonAddr: pc.LocalAddr().String(), SamplingStrategy: strategy}); err != nil {
		b.Fatal(err)
	}
}
