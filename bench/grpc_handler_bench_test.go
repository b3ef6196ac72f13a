package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// The in-process gRPC benchmark drives each variant's server stats handler
// and unary interceptor with the events grpc-go delivers for one unary RPC,
// without a transport. Over loopback TCP (BenchmarkGRPCUnary) the
// instrumentation is a small part of a round trip whose scheduling noise is
// larger than the difference being measured; here the same work is measured
// alone, export included.

const benchMethod = "/grpc.testing.TestService/UnaryCall"

var (
	benchPeer  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50123}
	benchLocal = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50051}
	benchInfo  = &grpc.UnaryServerInfo{FullMethod: benchMethod}
	benchResp  = &testgrpc.SimpleResponse{Username: "orders"}
)

// incomingMD is what a grpc-go client sends (no trace header: a root span).
func incomingMD() metadata.MD {
	return metadata.Pairs(
		":authority", "127.0.0.1:50051",
		"content-type", "application/grpc",
		"user-agent", "grpc-go/1.85.0")
}

// transportStream is the part of a server stream grpc.SetHeader reaches:
// it merges header metadata the way grpc-go's stream does.
type transportStream struct{ header metadata.MD }

func (s *transportStream) Method() string { return benchMethod }
func (s *transportStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *transportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (s *transportStream) SetTrailer(metadata.MD) error    { return nil }

// serveRPC runs one unary RPC through sh (stats events, in grpc-go's order)
// and ui around a handler that returns a fixed response.
func serveRPC(connCtx context.Context, sh stats.Handler, ui grpc.UnaryServerInterceptor, md metadata.MD, req *testgrpc.SimpleRequest) error {
	ctx := metadata.NewIncomingContext(connCtx, md)
	ctx = grpc.NewContextWithServerTransportStream(ctx, &transportStream{})
	now := time.Now()
	if sh != nil {
		ctx = sh.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: benchMethod})
		sh.HandleRPC(ctx, &stats.InHeader{FullMethod: benchMethod, RemoteAddr: benchPeer, LocalAddr: benchLocal, Header: md, Compression: "identity", WireLength: 60})
		sh.HandleRPC(ctx, &stats.Begin{BeginTime: now})
		sh.HandleRPC(ctx, &stats.InPayload{Payload: req, Length: 5, CompressedLength: 5, WireLength: 10, RecvTime: now})
	}
	handler := func(ctx context.Context, req any) (any, error) { return benchResp, nil }
	var err error
	if ui != nil {
		_, err = ui(ctx, req, benchInfo, handler)
	} else {
		_, err = handler(ctx, req)
	}
	if sh != nil {
		sh.HandleRPC(ctx, &stats.OutHeader{FullMethod: benchMethod, Header: metadata.MD{}, Compression: "identity"})
		sh.HandleRPC(ctx, &stats.OutPayload{Payload: benchResp, Length: 8, CompressedLength: 8, WireLength: 13, SentTime: time.Now()})
		sh.HandleRPC(ctx, &stats.OutTrailer{})
		sh.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: time.Now(), Error: err})
	}
	return err
}

// BenchmarkGRPCServerHandler measures each variant's server-side
// instrumentation for one sampled unary RPC, in process, export included.
// The bare row is the cost of the harness itself (contexts, stats event
// structs, the handler call).
func BenchmarkGRPCServerHandler(b *testing.B) {
	for _, v := range grpcVariants() {
		b.Run(v.name, func(b *testing.B) {
			sh, ui, e := v.parts(b)
			connCtx := context.Background()
			if sh != nil {
				connCtx = sh.TagConn(connCtx, &stats.ConnTagInfo{RemoteAddr: benchPeer, LocalAddr: benchLocal})
			}
			md := incomingMD()
			req := &testgrpc.SimpleRequest{}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if err := serveRPC(connCtx, sh, ui, md, req); err != nil {
					b.Fatal(err)
				}
			}
			timedFlush(b, e)
			cpu.report(b)
			reportLoss(b, e, b.N)
		})
	}
}
