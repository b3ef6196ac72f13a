package orders

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
	"github.com/o11y-go/o11y/examples/internal/fulfilment"
)

// Shutdown budget: ECS sends SIGKILL StopTimeout seconds after SIGTERM (30 s
// by default and in the templates, at most 120 s on Fargate) and App Runner
// has no configurable stop timeout, so the service stops within 10 s: up to
// DrainTimeout for in-flight requests, then FlushTimeout, the SDK's own
// share, for traces, metrics and logs. sdk.Shutdown returns by its deadline
// even when the daemon, collector or agent is down.
const (
	DrainTimeout    = 4 * time.Second
	FlushTimeout    = 5 * time.Second
	ShutdownTimeout = DrainTimeout + FlushTimeout
)

// Main runs the orders service as a process and returns its exit code. It
// reads PORT (default 8080), DOWNSTREAM_URL (optional inventory service),
// ORDERS_QUEUE_URL (optional SQS queue for the fulfilment worker; the AWS
// SDK's own variables, AWS_REGION, AWS_ENDPOINT_URL_SQS…, configure the
// client) and leaves every telemetry setting to o11y.ConfigFromEnv
// (OTEL_SERVICE_NAME, AWS_XRAY_DAEMON_ADDRESS, OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_TRACES_SAMPLER, …).
//
// With -healthcheck it instead probes http://127.0.0.1:$PORT/healthz and
// exits 0 or 1: the container health check of a distroless image, which
// has no shell or curl.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("orders", flag.ContinueOnError)
	fs.SetOutput(stderr)
	probe := fs.Bool("healthcheck", false, "probe http://127.0.0.1:$PORT"+HealthPath+" and exit 0 (healthy) or 1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if *probe {
		return healthcheck("http://127.0.0.1:" + port + HealthPath)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	// A bad setting is reported on stderr (one JSON line, through
	// Config.ErrorHandler) and replaced by its default; Start's error
	// repeats it, for services that prefer to refuse to start.
	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv())
	log := sdk.Logger()

	opts := Options{SDK: sdk}
	if u := os.Getenv("DOWNSTREAM_URL"); u != "" {
		opts.Inventory = HTTPInventory(sdk, u, "")
	}
	if q := os.Getenv(fulfilment.QueueURLEnv); q != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			log.Error("AWS configuration; checkout will not queue orders", "error", err.Error())
		} else {
			// awsmw.Instrument inside: SendMessage is traced and carries
			// the trace to the message.
			opts.Queue = fulfilment.NewPublisher(cfg, q)
		}
	}

	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Error("cannot listen", "port", port, "error", err.Error())
		flushCtx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
		_ = sdk.Shutdown(flushCtx)
		cancel()
		return 1
	}
	srv := &http.Server{
		Handler:           NewHandler(opts),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		// net/http's own complaints (TLS handshakes, bad requests) as JSON
		// lines on the SDK's logger, never free text on stdout.
		ErrorLog: slog.NewLogLogger(sdk.LogHandler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		log.Error("server stopped", "error", fmt.Sprint(err))
		flushCtx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
		_ = sdk.Shutdown(flushCtx)
		cancel()
		return 1
	case <-ctx.Done():
	}
	stop() // a second SIGTERM/Ctrl-C now kills the process the default way

	log.Info("shutting down", "reason", "signal")

	// 1. Stop accepting and wait for in-flight requests.
	drainCtx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	if err := srv.Shutdown(drainCtx); err != nil {
		log.Warn("in-flight requests cut off", "error", err.Error())
		_ = srv.Close()
	}
	cancel()

	// 2. Flush traces, metrics and logs in parallel, within the SDK's share.
	flushCtx, cancel := context.WithTimeout(context.Background(), FlushTimeout)
	defer cancel()
	log.Info("stopped serving; flushing telemetry")
	if err := sdk.Shutdown(flushCtx); err != nil {
		// The process is going away either way; say what was lost, on
		// stderr because the log pipeline itself may be what failed.
		fmt.Fprintf(stderr, `{"level":"ERROR","msg":"telemetry flush incomplete","error":%q}`+"\n", err.Error())
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, `{"level":"ERROR","msg":"serve","error":%q}`+"\n", err.Error())
	}
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
