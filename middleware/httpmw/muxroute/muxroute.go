// Package muxroute names httpmw spans after gorilla/mux path templates.
//
// Install the middleware with the router's Use, so the matched route is in
// the request the middleware sees:
//
//	r := mux.NewRouter()
//	r.Use(httpmw.New(sdk, httpmw.WithRoute(muxroute.Route)))
//	r.HandleFunc("/orders/{id}", getOrder) // span "GET /orders/{id}"
//
// Only programs that import this package link gorilla/mux.
package muxroute

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Route returns the path template of the gorilla/mux route that matched r,
// or "" when none did. Use it with httpmw.WithRoute.
func Route(r *http.Request) string {
	rt := mux.CurrentRoute(r)
	if rt == nil {
		return ""
	}
	t, err := rt.GetPathTemplate()
	if err != nil {
		return ""
	}
	return t
}
