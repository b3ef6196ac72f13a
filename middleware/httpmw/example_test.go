package httpmw_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

func exampleSDK() *o11y.SDK {
	sdk, _ := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		Output:                   io.Discard, // os.Stdout in a real service
		DisableResourceDetection: true,
		DisableGlobals:           true,
		Traces:                   o11y.TracesConfig{Exporter: "none", Sampler: "always_on"},
	})
	return sdk
}

// A net/http service: every request gets a span named after its route, a
// request id, metrics and one access line.
func ExampleNew() {
	sdk := exampleSDK()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the SDK's share of the stop budget
		defer cancel()
		sdk.Shutdown(ctx)
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "order %s", r.PathValue("id"))
	})
	handler := httpmw.New(sdk)(mux)

	req := httptest.NewRequest("GET", "/orders/42", nil)
	req.Header.Set("X-Request-Id", "req-1")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	fmt.Println(rec.Code, rec.Body.String())
	fmt.Println("X-Request-Id:", rec.Header().Get("X-Request-Id"))
	fmt.Println("X-Amzn-Trace-Id:", rec.Header().Get("X-Amzn-Trace-Id"))
	// Output:
	// 200 order 42
	// X-Request-Id: req-1
	// X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
}

// Skip health checks of an extra path besides the defaults.
func ExampleWithSkip() {
	sdk := exampleSDK()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the SDK's share of the stop budget
		defer cancel()
		sdk.Shutdown(ctx)
	}()

	h := httpmw.New(sdk, httpmw.WithSkip(httpmw.DefaultSkip, httpmw.PathPrefix("/internal/")))(http.NotFoundHandler())
	for _, path := range []string{"/internal/metrics", "/healthz", "/orders"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, "traced:", rec.Header().Get("X-Amzn-Trace-Id") != "")
	}
	// Output:
	// /internal/metrics traced: false
	// /healthz traced: false
	// /orders traced: true
}

// An outgoing call: the client span becomes an X-Ray subsegment and the
// callee receives its id as Parent.
func ExampleTransport() {
	sdk := exampleSDK()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the SDK's share of the stop budget
		defer cancel()
		sdk.Shutdown(ctx)
	}()

	callee := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("X-Amzn-Trace-Id")
		fmt.Println("callee got Root:", strings.HasPrefix(h, "Root=1-"), "Parent:", strings.Contains(h, ";Parent="))
	}))
	defer callee.Close()

	client := &http.Client{Transport: httpmw.Transport(sdk, nil, httpmw.WithPeerService("inventory"))}
	resp, err := client.Get(callee.URL + "/items?id=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close() // ends the client span
	fmt.Println(resp.StatusCode)
	// Output:
	// callee got Root: true Parent: true
	// 200
}
