// Command o11yhttp is the README quick start, built for the binary-size
// comparison (see size_test.go).
package main

import (
	"context"
	"log"
	"net/http"
	"os/signal"
	"syscall"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	sdk, err := o11y.Start(ctx, o11y.ConfigFromEnv()) // never blocks on the network
	if err != nil {
		log.Print(err) // the SDK still works; the part it names is off
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tracing.Annotate(ctx, "order_id", r.PathValue("id")) // searchable in X-Ray
		logging.FromContext(ctx).Info("order read")          // carries xray_trace_id, request_id
		w.Write([]byte(`{"status":"shipped"}`))
	})

	srv := &http.Server{Addr: ":8080", Handler: httpmw.New(sdk)(mux)}
	go srv.ListenAndServe()
	<-ctx.Done()
	srv.Shutdown(context.Background()) // finish in-flight requests
	sdk.Shutdown(context.Background()) // then flush traces, metrics and logs
}
