// Package chiroute names httpmw spans after chi route patterns.
//
// Install the middleware inside the router, so chi's routing context exists
// when the middleware runs and is complete when the handler returns:
//
//	r := chi.NewRouter()
//	r.Use(httpmw.New(sdk, httpmw.WithRoute(chiroute.Route)))
//	r.Get("/orders/{id}", getOrder) // span "GET /orders/{id}"
//
// Only programs that import this package link chi.
package chiroute

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Route returns the chi route pattern of r ("/orders/{id}", sub-router
// patterns joined), or "" before routing or when nothing matched. Use it
// with httpmw.WithRoute.
func Route(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil || len(rc.RoutePatterns) == 0 {
		return ""
	}
	if len(rc.RoutePatterns) == 1 {
		return rc.RoutePatterns[0] // the common case, without RoutePattern's join
	}
	return rc.RoutePattern()
}
