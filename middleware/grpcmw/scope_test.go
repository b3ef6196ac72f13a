package grpcmw_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/o11y-go/o11y/internal/version"
)

// The server and client spans name grpcmw's import path and the module's
// version as their instrumentation scope, as OpenTelemetry instrumentation
// libraries do.
func TestSpansCarryTheirScope(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := e.client.UnaryCall(ctxTimeout(t), &testpb.SimpleRequest{})
	require.NoError(t, err)
	spans := waitSpans(t, e, 2)
	require.NotEmpty(t, version.Version)
	for _, k := range []trace.SpanKind{trace.SpanKindServer, trace.SpanKindClient} {
		s := spanOfKind(t, spans, k)
		assert.Equal(t, "github.com/o11y-go/o11y/middleware/grpcmw", s.InstrumentationScope.Name, k.String())
		assert.Equal(t, version.Version, s.InstrumentationScope.Version, k.String())
	}
}
