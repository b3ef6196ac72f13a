// Package ginroute names httpmw spans after gin route templates.
//
// gin has its own middleware shape, so the instrumentation wraps the whole
// engine and this package's gin middleware, registered first, hands gin's
// route template to it through the request's Pattern field (the field
// http.ServeMux fills, which httpmw reads by default):
//
//	engine := gin.New()
//	engine.Use(ginroute.Middleware()) // first
//	engine.GET("/orders/:id", getOrder)
//	http.ListenAndServe(":8080", httpmw.New(sdk)(engine)) // span "GET /orders/:id"
//
// Only programs that import this package link gin.
package ginroute

import "github.com/gin-gonic/gin"

// Middleware returns a gin middleware that stores the matched route template
// (gin's FullPath, e.g. "/orders/:id") in c.Request.Pattern. It allocates
// nothing. Register it before any middleware that replaces c.Request.
func Middleware() gin.HandlerFunc { return setPattern }

func setPattern(c *gin.Context) {
	if p := c.FullPath(); p != "" {
		c.Request.Pattern = p
	}
	c.Next()
}
