package otlpexport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/o11y-go/o11y/internal/otlpexport"
)

// An exporter sending OTLP/HTTP to a collector (here a test server that
// decodes the request), used by a tracer provider.
func Example() {
	received := make(chan int, 1)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := 0
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
		received <- n
	}))
	defer collector.Close()

	exp, err := otlpexport.New(otlpexport.Options{
		Endpoint: collector.URL + "/v1/traces", // a traces URL is used as is
		Protocol: "http/protobuf",
		Getenv:   func(string) string { return "" }, // ignore OTEL_EXPORTER_OTLP_* here
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	_, span := tp.Tracer("example").Start(context.Background(), "GET /orders/{id}")
	span.End() // WithSyncer exports at once
	fmt.Println("collector received", <-received, "span")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // shutdown budget
	defer cancel()
	_ = tp.Shutdown(ctx)
	// Output: collector received 1 span
}
