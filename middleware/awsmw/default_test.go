package awsmw_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/tracing"
)

// Instrument without options follows o11y.Default() per call, so it may run
// before o11y.Start: calls made before Start are untraced, calls after it
// carry the SDK's trace in X-Amzn-Trace-Id.
func TestInstrumentFollowsDefaultSDK(t *testing.T) {
	f := awsfake.New(t)
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg)

	require.NoError(t, getItem("orders")(context.Background(), cfg))
	assert.Empty(t, f.LastHeader().Get("X-Amzn-Trace-Id"), "no SDK started yet: nothing to propagate")

	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		DisableResourceDetection: true,
		Output:                   io.Discard,
		Traces:                   o11y.TracesConfig{Exporter: "none", Sampler: "always_on"},
		Metrics:                  o11y.MetricsConfig{Disable: true},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sdk.Shutdown(ctx)
	})
	ctx, span := sdk.Tracer().Start(context.Background(), "checkout")
	require.NoError(t, getItem("orders")(ctx, cfg))
	span.End()
	h := f.LastHeader().Get("X-Amzn-Trace-Id")
	assert.True(t, strings.HasPrefix(h, "Root="+tracing.XRayTraceID(ctx)+";Parent="), "header %q", h)
	assert.NotContains(t, h, span.SpanContext().SpanID().String(), "Parent is the AWS call's span, not the caller's")
}
