package o11ytest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/o11ytest"
)

func TestRecorderSeesAllThreeSignals(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		sdk.Logger().InfoContext(r.Context(), "order read", "id", r.PathValue("id"))
	})
	h := httpmw.New(sdk)(mux)
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/orders/7", nil))
	}
	rec.FlushMetrics()

	spans := rec.Spans()
	require.Len(t, spans, 3)
	assert.Equal(t, "GET /orders/{id}", spans[0].Name)

	var appLines int
	for _, l := range rec.Logs() {
		if l["msg"] == "order read" {
			appLines++
			assert.NotEmpty(t, l["xray_trace_id"])
			assert.NotEmpty(t, l["request_id"])
		}
	}
	assert.Equal(t, 3, appLines)

	emf := rec.EMF()
	require.NotEmpty(t, emf)
	assert.Equal(t, "GET /orders/{id}", emf[0]["Operation"])

	rec.ResetSpans()
	assert.Empty(t, rec.Spans())
	assert.Equal(t, len(rec.Lines()), rec.Out().Writes(), "every line must come from exactly one Write")
}

func TestOptionsEditTheConfig(t *testing.T) {
	sdk, rec := o11ytest.New(t, func(c *o11y.Config) { c.ServiceName = "billing" })
	assert.Equal(t, "billing", sdk.ServiceName())
	assert.Same(t, sdk, rec.SDK())
}
