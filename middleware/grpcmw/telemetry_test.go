package grpcmw_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
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
