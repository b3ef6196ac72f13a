package httpmw_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

// Every span names the package that made it and the module's version, as
// OpenTelemetry instrumentation libraries do: the middleware's server and
// client spans carry httpmw's import path, the SDK's own tracer the root's.
func TestSpansCarryTheirScope(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	c := httpmw.Client(sdk, nil)
	ctx, parent := sdk.Tracer().Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	parent.End()

	require.NotEmpty(t, version.Version)
	for _, tc := range []struct {
		kind  trace.SpanKind
		scope string
	}{
		{trace.SpanKindServer, "github.com/o11y-go/o11y/middleware/httpmw"},
		{trace.SpanKindClient, "github.com/o11y-go/o11y/middleware/httpmw"},
		{trace.SpanKindInternal, "github.com/o11y-go/o11y"},
	} {
		ss := spansOfKind(rec, tc.kind)
		require.Len(t, ss, 1, tc.kind.String())
		assert.Equal(t, tc.scope, ss[0].InstrumentationScope.Name, tc.kind.String())
		assert.Equal(t, version.Version, ss[0].InstrumentationScope.Version, tc.kind.String())
	}
}
