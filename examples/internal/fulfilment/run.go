package fulfilment

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/o11y-go/o11y"
)

// Shutdown budget, as the orders service's: ECS sends SIGKILL StopTimeout
// seconds after SIGTERM (30 s in the template). The message in hand
// finishes within HandleTimeout (DrainTimeout), the rest of its batch is
// released (ReleaseTimeout), then the SDK gets FlushTimeout.
const (
	DrainTimeout = 4 * time.Second
	FlushTimeout = 5 * time.Second
)

// HealthPath is the worker's health route (the container health check:
// `/worker -healthcheck`).
const HealthPath = "/healthz"

// Main runs the fulfilment worker as a process and returns its exit code.
// It reads ORDERS_QUEUE_URL (required), PORT (health endpoint, default
// 8081), the AWS SDK's usual variables (AWS_REGION, credentials from the
// ECS task role; AWS_ENDPOINT_URL_SQS for a local endpoint) and leaves
// every telemetry setting to o11y.ConfigFromEnv.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	probe := fs.Bool("healthcheck", false, "probe http://127.0.0.1:$PORT"+HealthPath+" and exit 0 (healthy) or 1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8081"
	}
	if *probe {
		return healthcheck("http://127.0.0.1:" + port + HealthPath)
	}
	queueURL := os.Getenv(QueueURLEnv)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv())
	log := sdk.Logger()
	flush := func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
		defer cancel()
		if err := sdk.Shutdown(flushCtx); err != nil {
			fmt.Fprintf(stderr, `{"level":"ERROR","msg":"telemetry flush incomplete","error":%q}`+"\n", err.Error())
		}
	}
	if queueURL == "" {
		log.Error("no queue to consume", "variable", QueueURLEnv)
		flush()
		return 1
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("AWS configuration", "error", err.Error())
		flush()
		return 1
	}

	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Error("cannot listen", "port", port, "error", err.Error())
		flush()
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(sdk.LogHandler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()

	w := &Worker{Config: cfg, QueueURL: queueURL, SDK: sdk, HandleTimeout: DrainTimeout}
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	<-ctx.Done()
	stop()
	log.Info("shutting down", "reason", "signal")
	select {
	case <-done:
	case <-time.After(DrainTimeout + ReleaseTimeout + time.Second):
		log.Warn("worker still busy at the drain deadline")
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
	}
	cancel()
	flush()
	return 0
}

func healthcheck(url string) int {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
