package grpcmw_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// TestMetricsAndAccessLog: one EMF series per full method with Error and
// Fault following the flags table, and one access line per RPC; nothing for
// the filtered health check.
func TestMetricsAndAccessLog(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxTimeout(t)
	_, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 3})
	require.NoError(t, err)
	_, err = e.client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound)}})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = e.client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.Unavailable)}})
	require.Equal(t, codes.Unavailable, status.Code(err))
	_, err = e.health.Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	waitSpans(t, e, 6) // 3 server + 3 client: the health check has none

	var access []map[string]any
	for _, l := range e.rec.Logs() {
		if l["protocol"] == "grpc" {
			access = append(access, l)
		}
	}
	require.Len(t, access, 3, "one access line per instrumented RPC: %v", access)
	levels := map[any]any{}
	for _, l := range access {
		levels[l["grpc_code"]] = l["level"]
		assert.Equal(t, unaryMethod, l["method"])
		assert.Regexp(t, `^[0-9a-f]{32}$`, l["request_id"])
		assert.Regexp(t, `^1-[0-9a-f]{8}-[0-9a-f]{24}$`, l["xray_trace_id"])
	}

	assert.Equal(t, map[any]any{"OK": "INFO", "NotFound": "WARN", "Unavailable": "ERROR"}, levels)

	e.rec.FlushMetrics()
	emf := e.rec.EMF()
	var found map[string]any
	for _, d := range emf {
		if d["Operation"] == unaryMethod {
			require.Nil(t, found, "one document per operation")
			found = d
		}
		assert.NotContains(t, d["Operation"], "grpc.health", "health checks are filtered")
	}
	require.NotNil(t, found, "EMF for %s in %v", unaryMethod, emf)
	// Error and Fault carry the per-request 0/1 values (their average is the
	// rate): 1 of 3 requests is an error, 1 of 3 a fault.
	assert.Equal(t, 1.0, sumOf(t, found["Error"]), "Error")
	assert.Equal(t, 1.0, sumOf(t, found["Fault"]), "Fault")
}

// sumOf adds up an EMF value: a number, or a Values/Counts distribution.
func sumOf(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case map[string]any:
		if s, ok := x["Sum"].(float64); ok {
			return s
		}
		vals, _ := x["Values"].([]any)
		counts, _ := x["Counts"].([]any)
		var sum float64
		for i := range vals {
			c := 1.0
			if i < len(counts) {
				c = counts[i].(float64)
			}
			sum += vals[i].(float64) * c
		}
		return sum
	}
	t.Fatalf("unexpected EMF value %#v", v)
	return 0
}

// rpc drives the server handler through one unary RPC ending with code, with
// the given incoming metadata pairs.
func rpc(h stats.Handler, method string, code codes.Code, md ...string) context.Context {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(md...))
	ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
	now := time.Now()
	h.HandleRPC(ctx, &stats.InHeader{FullMethod: method, RemoteAddr: benchAddr, Header: metadata.Pairs(md...)})
	h.HandleRPC(ctx, &stats.Begin{BeginTime: now})
	var err error
	if code != codes.OK {
		err = status.Error(code, "x")
	}
	h.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: now.Add(time.Millisecond), Error: err})
	return ctx
}

func accessLines(rec *o11ytest.Recorder) []map[string]any {
	var out []map[string]any
	for _, l := range rec.Logs() {
		if l["msg"] == "access" {
			out = append(out, l)
		}
	}
	return out
}

// TestAccessLogSettings: the access line follows O11Y_ACCESS_LOG
// (Config.Logs.AccessLog) and WithAccessLog exactly as in httpmw: the base
// level on success, Warn or above for client errors, Error for faults.
func TestAccessLogSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  string
		opts []grpcmw.Option
		want []string // levels for OK, NotFound, Unavailable; nil: no lines
	}{
		{"default", "", nil, []string{"INFO", "WARN", "ERROR"}},
		{"O11Y_ACCESS_LOG=off", "off", nil, nil},
		{"O11Y_ACCESS_LOG=warn", "warn", nil, []string{"WARN", "WARN", "ERROR"}},
		{"WithAccessLog(nil) wins", "info", []grpcmw.Option{grpcmw.WithAccessLog(nil)}, nil},
		{"WithAccessLog(Error)", "off", []grpcmw.Option{grpcmw.WithAccessLog(slog.LevelError)}, []string{"ERROR", "ERROR", "ERROR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdk, rec := o11ytest.New(t, func(c *o11y.Config) { c.Logs.AccessLog = o11y.AccessLogLevel(tc.cfg) })
			h := grpcmw.NewServerHandler(sdk, tc.opts...)
			for _, c := range []codes.Code{codes.OK, codes.NotFound, codes.Unavailable} {
				rpc(h, "/pkg.Orders/Get", c)
			}
			var got []string
			for _, l := range accessLines(rec) {
				got = append(got, l["level"].(string))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestClientAddress: X-Forwarded-For is validated as in httpmw: its first
// entry when it is an IP address, else the peer.
func TestClientAddress(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	h := grpcmw.NewServerHandler(sdk)
	for xff, want := range map[string]string{
		"":                                 "10.0.0.1",
		"203.0.113.9, 10.1.1.1":            "203.0.113.9",
		"[2001:db8::7]:443":                "2001:db8::7",
		`evil", "level":"ERROR`:            "10.0.0.1",
		"unknown, 203.0.113.9":             "10.0.0.1",
		strings.Repeat("1.", 40) + "1.1.1": "10.0.0.1",
	} {
		rec.ResetSpans()
		rpc(h, "/pkg.Orders/Get", codes.OK, "x-forwarded-for", xff)
		spans := rec.Spans()
		require.Len(t, spans, 1)
		assert.Equal(t, want, attrs(spans[0])["client.address"].AsString(), xff)
		lines := accessLines(rec)
		assert.Equal(t, want, lines[len(lines)-1]["client_ip"], xff)
	}
}

// TestOperationCap: past the metrics recorder's operation cap, span names
// fold into "other" exactly as the metrics Operation dimension does; an
// unknown method's name never takes a slot.
func TestOperationCap(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	h := grpcmw.NewServerHandler(sdk)
	const n = metrics.DefaultMaxOperations + 3
	for i := 0; i < n; i++ {
		rpc(h, "/pkg.S/M"+strconv.Itoa(i), codes.OK)
	}
	names := map[string]int{}
	for _, s := range rec.Spans() {
		names[s.Name]++
	}
	assert.Equal(t, 1, names["/pkg.S/M0"])
	assert.Equal(t, 3, names[metrics.OtherOperation])
	rec.FlushMetrics()
	ops := map[string]float64{}
	for _, d := range rec.EMF() {
		ops[d["Operation"].(string)] += sumOf(t, d["Fault"]) + 1
	}
	for name := range names {
		assert.Contains(t, ops, name, "metrics Operation %q matches the span name", name)
	}
	assert.Len(t, ops, len(names))
}

// TestRequestIDForwarded: the client handler forwards the request id of the
// request being served (HTTP or gRPC) in x-request-id; one the application
// set in the outgoing metadata wins.
func TestRequestIDForwarded(t *testing.T) {
	var got []string
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		got = metadata.ValueFromIncomingContext(ctx, "x-request-id")
		return next(ctx, req)
	}
	e := newEnv(t, envOpts{bareServer: true, unaryServer: []grpc.UnaryServerInterceptor{capture}})
	served := reqstate.With(ctxTimeout(t), &reqstate.State{RequestID: "req-7/a+b=@c"})
	_, err := e.client.UnaryCall(served, &testpb.SimpleRequest{})
	require.NoError(t, err)
	assert.Equal(t, []string{"req-7/a+b=@c"}, got)

	_, err = e.client.UnaryCall(metadata.AppendToOutgoingContext(served, "x-request-id", "app"), &testpb.SimpleRequest{})
	require.NoError(t, err)
	assert.Equal(t, []string{"app"}, got)

	_, err = e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{})
	require.NoError(t, err)
	assert.Empty(t, got, "no request being served, nothing forwarded")
	waitSpans(t, e, 3)
}

// TestRequestIDHeaderOption: one WithRequestIDHeader for both sides, as in
// httpmw: the server reads and returns the id under it, the client forwards
// it under it.
func TestRequestIDHeaderOption(t *testing.T) {
	var got metadata.MD
	capture := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		got, _ = metadata.FromIncomingContext(ctx)
		assert.Equal(t, "corr-1", reqstate.RequestID(ctx))
		return next(ctx, req)
	}
	opt := grpcmw.WithRequestIDHeader("X-Correlation-Id")
	e := newEnv(t, envOpts{server: []grpcmw.Option{opt}, client: []grpcmw.ClientOption{opt},
		unaryServer: []grpc.UnaryServerInterceptor{capture}})
	var header metadata.MD
	served := reqstate.With(ctxTimeout(t), &reqstate.State{RequestID: "corr-1"})
	_, err := e.client.UnaryCall(served, &testpb.SimpleRequest{}, grpc.Header(&header))
	require.NoError(t, err)
	assert.Equal(t, []string{"corr-1"}, got.Get("x-correlation-id"))
	assert.Empty(t, got.Get("x-request-id"))
	assert.Equal(t, []string{"corr-1"}, header.Get("x-correlation-id"))
	assert.Empty(t, header.Get("x-request-id"))
	waitSpans(t, e, 2)
}
