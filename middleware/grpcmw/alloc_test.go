//go:build !race

package grpcmw_test

import (
	"testing"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// TestServerHandlerAllocs keeps the per-RPC cost of the server handler in
// check. serverRPC itself allocates 6 objects (the stats events grpc-go
// allocates anyway); the budgets below include them.
func TestServerHandlerAllocs(t *testing.T) {
	for _, tc := range []struct {
		sampler string
		budget  float64
	}{
		{"always_off", 12}, // state (its context node carries reqstate and is the span's parent), the extracted X-Ray header and its context, the span and its context, the peer address (no TagConn here); the metadata is read in place
		{"always_on", 19},  // + the recording span, its attributes (set once, at the end), snapshot and de-duplication map (OTel SDK)
	} {
		t.Run(tc.sampler, func(t *testing.T) {
			sdk, _ := o11ytest.New(t, func(c *o11y.Config) { c.Traces.Sampler = o11y.SamplerName(tc.sampler); c.Output = discard{} })
			h := grpcmw.NewServerHandler(sdk)
			ctx := incomingCtx()
			got := testing.AllocsPerRun(200, func() { serverRPC(h, ctx) })
			t.Logf("%s: %.0f allocs per RPC", tc.sampler, got)
			if got > tc.budget {
				t.Errorf("%.0f allocs per RPC, budget %.0f", got, tc.budget)
			}
		})
	}
}

// TestFilteredRPCAllocs: a filtered RPC (health check) costs nothing.
func TestFilteredRPCAllocs(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	h := grpcmw.NewServerHandler(sdk, grpcmw.WithSkip(grpcmw.MethodPrefix("/pkg.Orders/")))
	ctx := incomingCtx()
	got := testing.AllocsPerRun(200, func() { serverRPC(h, ctx) })
	t.Logf("%.0f allocs per filtered RPC", got)
	if got > 6 { // serverRPC's own: a filtered RPC is left alone
		t.Errorf("%.0f allocs per filtered RPC, budget 6", got)
	}
	if n := len(rec.Spans()); n != 0 {
		t.Errorf("filtered RPC produced %d spans", n)
	}
}
