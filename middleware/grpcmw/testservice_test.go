package grpcmw_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Payload bodies that steer the test service.
const (
	bodyPanic = "panic" // panic in the handler
	bodyBlock = "block" // wait for the RPC context to end, then return its error
)

// blocked receives a value when a handler starts waiting in bodyBlock.
var blocked = make(chan struct{}, 1)

// drainBlocked forgets a signal left by an earlier test.
func drainBlocked() {
	select {
	case <-blocked:
	default:
	}
}

// waitBlocked waits until the server handler is blocked.
func waitBlocked(t testing.TB) {
	t.Helper()
	select {
	case <-blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("server handler never started")
	}
}

// testService implements grpc.testing.TestService, which ships with grpc-go
// and covers all four RPC kinds without protoc.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func echoStatus(s *testpb.EchoStatus) error {
	if s == nil || s.GetCode() == 0 {
		return nil
	}
	return status.Error(codes.Code(s.GetCode()), s.GetMessage())
}

func steer(ctx context.Context, body []byte) error {
	switch string(body) {
	case bodyPanic:
		panic("boom: " + string(body))
	case bodyBlock:
		select {
		case blocked <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

func (testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if err := steer(ctx, req.GetPayload().GetBody()); err != nil {
		return nil, err
	}
	if err := echoStatus(req.GetResponseStatus()); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

func (testService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range req.GetResponseParameters() {
		if err := ss.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	if err := steer(ss.Context(), req.GetPayload().GetBody()); err != nil {
		return err
	}
	return echoStatus(req.GetResponseStatus())
}

func (testService) StreamingInputCall(ss grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	var total int32
	for {
		m, err := ss.Recv()
		if errors.Is(err, io.EOF) {
			return ss.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: total})
		}
		if err != nil {
			return err
		}
		if err := steer(ss.Context(), m.GetPayload().GetBody()); err != nil {
			return err
		}
		total += int32(len(m.GetPayload().GetBody()))
	}
}

func (testService) FullDuplexCall(ss grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		m, err := ss.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := steer(ss.Context(), m.GetPayload().GetBody()); err != nil {
			return err
		}
		if err := echoStatus(m.GetResponseStatus()); err != nil {
			return err
		}
		if err := ss.Send(&testpb.StreamingOutputCallResponse{Payload: m.GetPayload()}); err != nil {
			return err
		}
	}
}

// env is one server and one client connection, instrumented by the same SDK.
type env struct {
	// srvTrack and cliTrack run after grpcmw's handlers: see rpcTracker.
	srvTrack, cliTrack *rpcTracker
	sdk                *o11y.SDK
	rec                *o11ytest.Recorder
	client             testpb.TestServiceClient
	health             healthpb.HealthClient
	conn               *grpc.ClientConn
	addr               string
}

type envOpts struct {
	server      []grpcmw.Option
	client      []grpcmw.ClientOption
	tcp         bool
	noClientMW  bool
	unaryServer []grpc.UnaryServerInterceptor
	// bareServer leaves this package off the server (for interop tests).
	bareServer bool
}

// newEnv starts a server (bufconn, or TCP on 127.0.0.1:0) and a client, and
// registers cleanups that stop both and then check for leaked goroutines.
func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	// Registered first, so it runs last: after the client, server and SDK
	// have shut down.
	// (Benchmarks rely on VerifyTestMain: their runner goroutines would
	// count as leaks here.)
	if tt, ok := t.(*testing.T); ok {
		t.Cleanup(func() { goleak.VerifyNone(tt) })
	}
	sdk, rec := o11ytest.New(t)

	var lis net.Listener
	var dial grpc.DialOption
	target := "passthrough:///bufnet"
	if o.tcp {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lis = l
		target = l.Addr().String()
	} else {
		bl := bufconn.Listen(1 << 20)
		lis = bl
		dial = grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) })
	}
	// Tests get the sync points; benchmarks measure gRPC and grpcmw alone.
	var srvTrack, cliTrack *rpcTracker
	var sopts []grpc.ServerOption
	if _, bench := t.(*testing.B); !bench {
		srvTrack, cliTrack = newTracker(), newTracker()
		// WaitForHandlers: Stop returns once every handler (and so every
		// stats End) has run.
		sopts = append(sopts, grpc.WaitForHandlers(true))
	}
	if !o.bareServer {
		sopts = append(sopts, grpcmw.ServerOptions(sdk, o.server...)...)
	}
	if srvTrack != nil {
		sopts = append(sopts, grpc.StatsHandler(srvTrack))
	}
	if len(o.unaryServer) > 0 {
		sopts = append(sopts, grpc.ChainUnaryInterceptor(o.unaryServer...))
	}
	srv := grpc.NewServer(sopts...)
	testpb.RegisterTestServiceServer(srv, testService{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(lis) }()

	dopts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if dial != nil {
		dopts = append(dopts, dial)
	}
	if !o.noClientMW {
		dopts = append(dopts, grpc.WithStatsHandler(grpcmw.NewClientHandler(sdk, o.client...)))
	}
	if cliTrack != nil {
		dopts = append(dopts, grpc.WithStatsHandler(cliTrack))
	}
	conn, err := grpc.NewClient(target, dopts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return &env{srvTrack: srvTrack, cliTrack: cliTrack, sdk: sdk, rec: rec, client: testpb.NewTestServiceClient(conn), health: healthpb.NewHealthClient(conn), conn: conn, addr: target}
}

func ctxTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rpcTracker is a stats.Handler registered after grpcmw's. gRPC calls stats
// handlers in registration order, so when the tracker sees an RPC end,
// grpcmw has already ended that RPC's span: "no RPC in flight" on both sides
// is a sync point after which no further span can appear (no sleeping and
// hoping).
type rpcTracker struct {
	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed when inflight drops to 0; nil while idle
}

type trackKey struct{}

type trackState struct{ begun, done atomic.Bool }

func newTracker() *rpcTracker { return &rpcTracker{} }

func (r *rpcTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	r.mu.Lock()
	r.inflight++
	if r.idle == nil {
		r.idle = make(chan struct{})
	}
	r.mu.Unlock()
	return context.WithValue(ctx, trackKey{}, &trackState{})
}

func (r *rpcTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	st, _ := ctx.Value(trackKey{}).(*trackState)
	if st == nil {
		return
	}
	switch s.(type) {
	case *stats.Begin:
		st.begun.Store(true)
	case *stats.End:
		r.finish(st)
	case *stats.OutTrailer:
		if !s.IsClient() && !st.begun.Load() {
			r.finish(st) // unknown method: grpc-go never begins (or ends) it
		}
	}
}

func (r *rpcTracker) finish(st *trackState) {
	if !st.done.CompareAndSwap(false, true) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight--; r.inflight == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

func (r *rpcTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (r *rpcTracker) HandleConn(context.Context, stats.ConnStats)                       {}

// waitIdle waits until no RPC is in flight. The timeout only turns a hang
// into a failure.
func (r *rpcTracker) waitIdle(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-time.After(10 * time.Second):
		t.Fatal("RPCs still in flight")
	}
}
