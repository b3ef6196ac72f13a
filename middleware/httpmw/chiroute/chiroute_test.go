package chiroute_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"

	"github.com/o11y-go/o11y/middleware/httpmw/chiroute"
)

func TestRoute(t *testing.T) {
	var got string
	r := chi.NewRouter()
	r.Route("/v1", func(r chi.Router) {
		r.Get("/users/{id}", func(w http.ResponseWriter, req *http.Request) { got = chiroute.Route(req) })
	})
	r.Get("/a/{x}", func(w http.ResponseWriter, req *http.Request) { got = chiroute.Route(req) })

	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/users/5", nil))
	assert.Equal(t, "/v1/users/{id}", got)
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/a/1", nil))
	assert.Equal(t, "/a/{x}", got)
	assert.Equal(t, "", chiroute.Route(httptest.NewRequest("GET", "/", nil)), "outside chi")
}
