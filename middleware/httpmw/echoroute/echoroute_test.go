package echoroute_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/middleware/httpmw/echoroute"
	"github.com/o11y-go/o11y/o11ytest"
)

func TestEchoRoutes(t *testing.T) {
	sdk, rec := o11ytest.New(t)
	e := echo.New()
	e.Use(echoroute.Middleware)
	e.GET("/orders/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	g := e.Group("/api")
	g.GET("/items/:item", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	h := httpmw.New(sdk)(e)

	for path, want := range map[string]string{
		"/orders/12":   "GET /orders/:id",
		"/api/items/3": "GET /api/items/:item",
	} {
		rec.ResetSpans()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		spans := rec.Spans()
		require.Len(t, spans, 1, path)
		assert.Equal(t, want, spans[0].Name, path)
	}
	rec.ResetSpans()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", "/missing/1", nil))
	require.Len(t, rec.Spans(), 1)
	assert.Equal(t, http.StatusNotFound, rr.Code)
	assert.Equal(t, "GET unknown_route", rec.Spans()[0].Name, "never the raw path")
}
