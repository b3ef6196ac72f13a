// Package echoroute names httpmw spans after echo route templates.
//
// echo has its own middleware shape, so the instrumentation wraps the whole
// server and this package's echo middleware, registered first with Use,
// hands echo's route template to it through the request's Pattern field
// (the field http.ServeMux fills, which httpmw reads by default):
//
//	e := echo.New()
//	e.Use(echoroute.Middleware) // first
//	e.GET("/orders/:id", getOrder)
//	http.ListenAndServe(":8080", httpmw.New(sdk)(e)) // span "GET /orders/:id"
//
// Only programs that import this package link echo.
package echoroute

import "github.com/labstack/echo/v4"

// Middleware is an echo middleware that stores the matched route template
// (echo's c.Path(), e.g. "/orders/:id") in the request's Pattern field.
// Register it with Use (not Pre: routing has not happened yet then) before
// any middleware that replaces the request.
func Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Path(); p != "" {
			c.Request().Pattern = p
		}
		return next(c)
	}
}
