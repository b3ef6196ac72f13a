package chiroute_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-chi/chi/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/middleware/httpmw/chiroute"
)

// printNames prints the name of every ended span.
type printNames struct{ sdktrace.SpanProcessor }

func (printNames) OnEnd(s sdktrace.ReadOnlySpan) { fmt.Println("span:", s.Name()) }

func Example() {
	sdk, _ := o11y.Start(context.Background(), o11y.Config{
		ServiceName: "orders", Output: io.Discard, DisableGlobals: true, DisableResourceDetection: true,
		Traces: o11y.TracesConfig{
			Exporter: "none", Sampler: "always_on",
			SpanProcessors: []sdktrace.SpanProcessor{printNames{sdktrace.NewSimpleSpanProcessor(nil)}},
		},
	})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the SDK's share of the stop budget
		defer cancel()
		sdk.Shutdown(ctx)
	}()

	r := chi.NewRouter()
	r.Use(httpmw.New(sdk, httpmw.WithRoute(chiroute.Route)))
	r.Get("/orders/{id}", func(w http.ResponseWriter, req *http.Request) {})
	r.Route("/api", func(r chi.Router) {
		r.Get("/items/{item}", func(w http.ResponseWriter, req *http.Request) {})
	})

	for _, path := range []string{"/orders/42", "/api/items/7", "/nope"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	// Output:
	// span: GET /orders/{id}
	// span: GET /api/items/{item}
	// span: GET unknown_route
}
