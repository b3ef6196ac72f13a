package muxroute_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/middleware/httpmw/muxroute"
	"github.com/o11y-go/o11y/o11ytest"
)

func TestGorillaRoutes(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	r := mux.NewRouter()
	r.Use(httpmw.New(sdk, httpmw.WithRoute(muxroute.Route)))
	r.HandleFunc("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {}).Methods("GET")
	s := r.PathPrefix("/api").Subrouter()
	s.HandleFunc("/items/{item:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {})

	for path, want := range map[string]string{
		"/orders/12":   "GET /orders/{id}",
		"/api/items/3": "GET /api/items/{item:[0-9]+}",
	} {
		rec.ResetSpans()
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		spans := rec.Spans()
		require.Len(t, spans, 1, path)
		assert.Equal(t, want, spans[0].Name)
		assert.Equal(t, trace.SpanKindServer, spans[0].SpanKind)
	}
	assert.Equal(t, "", muxroute.Route(httptest.NewRequest("GET", "/", nil)))
}
