package httpmw_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/middleware/httpmw"
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

// batchedSDK is an SDK whose output is batched with a window that never
// ends during the test: only a flush writes lines.
func batchedSDK(t *testing.T) (*o11y.SDK, *lockedBuf) {
	out := &lockedBuf{}
	lw := linewriter.NewBatched(out, linewriter.Options{FlushInterval: time.Hour})
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName: "orders", Output: lw, DisableGlobals: true, DisableResourceDetection: true,
		Traces: o11y.TracesConfig{Exporter: "none"}, Metrics: o11y.MetricsConfig{Disable: true},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	return sdk, out
}

// With batched output, the lines about a recovered panic are written
// before the middleware answers 500 or panics again; other requests' lines
// wait for the window.
func TestPanicFlushesBatchedLines(t *testing.T) {
	t.Run("500", func(t *testing.T) {
		sdk, out := batchedSDK(t)
		h := httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ok" {
				return
			}
			sdk.Logger().InfoContext(r.Context(), "about to fail")
			panic("boom")
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
		assert.Empty(t, out.String(), "batched: nothing written yet")
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", "/p", nil))
		assert.Equal(t, http.StatusInternalServerError, rr.Code)
		got := out.String()
		assert.Contains(t, got, `"msg":"about to fail"`)
		assert.Contains(t, got, `"status":500`, "the panic's access line is out")
	})
	t.Run("re-panic", func(t *testing.T) {
		sdk, out := batchedSDK(t)
		h := httpmw.New(sdk, httpmw.WithRePanic(true))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("again")
		}))
		var got any
		var written string
		func() {
			defer func() { got, written = recover(), out.String() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
		}()
		assert.Equal(t, "again", got)
		assert.Contains(t, written, `"status":500`, "written before the re-panic")
	})
}
