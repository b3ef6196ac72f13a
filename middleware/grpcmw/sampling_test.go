package grpcmw_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// TestSamplingRulesSeeTheRPC checks that X-Ray sampling rules match on the
// RPC (path = full method, host = :authority without port) although the
// server span starts without attributes, that the finished span still
// carries them, and that the sampler-only inputs are gone from the request
// state once TagRPC returns.
func TestSamplingRulesSeeTheRPC(t *testing.T) {
	const rulesDoc = `{"version": 2,
 "default": {"fixed_target": 0, "rate": 1},
 "rules": [
  {"description": "empty calls", "host": "*", "http_method": "POST", "url_path": "/grpc.testing.TestService/EmptyCall", "fixed_target": 0, "rate": 0},
  {"description": "admin host", "host": "admin.example", "http_method": "*", "url_path": "*", "fixed_target": 0, "rate": 0}]}`
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(rulesDoc), 0o600))
	sdk, rec := o11ytest.New(t, func(c *o11y.Config) {
		c.Traces.Sampler = "xray"
		c.Traces.SamplingRulesFile = rules
	})
	h := grpcmw.NewServerHandler(sdk)
	for _, tc := range []struct {
		name, method, authority string
		sampled                 bool
	}{
		{"other method", unaryMethod, "orders.example:50051", true},
		{"method rule", "/grpc.testing.TestService/EmptyCall", "orders.example:50051", false},
		{"host rule", unaryMethod, "admin.example:50051", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.ResetSpans()
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(":authority", tc.authority))
			ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: tc.method})
			st := reqstate.From(ctx)
			require.NotNil(t, st, "request state")
			assert.Nil(t, st.Sampling, "sampler-only inputs past the start")
			assert.Equal(t, tc.sampled, trace.SpanFromContext(ctx).SpanContext().IsSampled())
			now := time.Now()
			h.HandleRPC(ctx, &stats.Begin{BeginTime: now})
			h.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: now})
			if !tc.sampled {
				assert.Empty(t, rec.Spans())
				return
			}
			spans := rec.Spans()
			require.Len(t, spans, 1)
			a := attrs(spans[0])
			assert.Equal(t, tc.method, a["url.path"].AsString())
			assert.Equal(t, "POST", a["http.request.method"].AsString())
			assert.Equal(t, "orders.example", a["server.address"].AsString())
			assert.Equal(t, "grpc", a["rpc.system"].AsString())
			assert.Equal(t, "grpc.testing.TestService", a["rpc.service"].AsString())
			assert.Equal(t, "UnaryCall", a["rpc.method"].AsString())
		})
	}
}
