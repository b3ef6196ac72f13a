// Command o11yhttp is the README quick start, built for the binary-size
// comparison. TestQuickStartIsREADME keeps it identical to the README.
package main

import (
	"context"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Never blocks on the network. A bad setting is reported on stderr (one JSON line)
	// and replaced by its default; the error repeats it for programs that refuse to start.
	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv())

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

	// ECS kills the task 30 s after SIGTERM: 20 s to drain requests, then 5 s to flush.
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelDrain()
	srv.Shutdown(drainCtx) // finish in-flight requests
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelFlush()
	sdk.Shutdown(flushCtx) // then flush traces, metrics and logs
}
