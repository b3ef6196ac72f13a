package grpcmw_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/middleware/grpcmw"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With batched output (a window that never ends during the test), the
// recovery interceptor writes the panic's line before it answers Internal.
func TestRecoveryFlushesBatchedLines(t *testing.T) {
	out := &lockedBuf{}
	lw := linewriter.NewBatched(out, linewriter.Options{FlushInterval: time.Hour})
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName: "orders", Output: lw, DisableGlobals: true, DisableResourceDetection: true,
		Traces: o11y.TracesConfig{Exporter: "none"}, Metrics: o11y.MetricsConfig{Disable: true},
	})
	require.NoError(t, err)
	defer func() { _ = sdk.Shutdown(context.Background()) }()
	sdk.Logger().Info("before")
	assert.Empty(t, out.String(), "batched: nothing written yet")

	intercept := grpcmw.UnaryServerRecovery(sdk)
	_, err = intercept(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/orders.Orders/Get"},
		func(context.Context, any) (any, error) { panic("boom") })
	assert.Equal(t, codes.Internal, status.Code(err))
	got := out.String()
	assert.Contains(t, got, `"msg":"before"`)
	assert.Contains(t, got, `"msg":"grpc handler panic"`, "the panic's line is out")
}
