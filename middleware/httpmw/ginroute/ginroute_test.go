package ginroute_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/middleware/httpmw/ginroute"
	"github.com/o11y-go/o11y/o11ytest"
)

func TestGinRoutes(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	sdk, rec := o11ytest.New(t)
	engine := gin.New()
	engine.Use(ginroute.Middleware())
	engine.GET("/orders/:id", func(c *gin.Context) { c.String(200, "ok") })
	api := engine.Group("/api")
	api.GET("/items/*rest", func(c *gin.Context) { c.Status(204) })
	h := httpmw.New(sdk)(engine)

	for path, want := range map[string]string{
		"/orders/12":   "GET /orders/:id",
		"/api/items/x": "GET /api/items/*rest",
		"/missing":     "GET unknown_route",
	} {
		rec.ResetSpans()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		spans := rec.Spans()
		require.Len(t, spans, 1, path)
		assert.Equal(t, want, spans[0].Name, path)
	}
}
