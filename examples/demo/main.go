// Command demo runs four small services in one process and sends them
// traffic, so you can see the SDK's traces, metrics and logs without an AWS
// account, a daemon or a collector:
//
//	go run ./examples/demo                 # until Ctrl-C; open http://127.0.0.1:8900
//	go run ./examples/demo -duration 30s -rps 20
//	go run ./examples/demo -console -      # without the local console
//	go run ./examples/demo 2>/dev/null | jq .   # only the JSON (logs + EMF)
//	go run ./examples/demo > demo.jsonl         # keep the JSON, watch the summary
//
// The call graph is client → gateway (HTTP) → orders (HTTP) → inventory
// (gRPC), and orders → SQS (a fake SQS endpoint in this process) →
// fulfilment (a worker consuming "order placed"). Each service has its own SDK instance (its own service name);
// traces go over UDP to a stand-in for the X-Ray daemon inside the process,
// which prints trace trees; logs and EMF metric documents are JSON lines on
// stdout, exactly as they would reach CloudWatch Logs from a container.
// Human-readable output (legend, progress, trees, summary) goes to stderr.
// The local console (the one `go run ./cmd/o11y console` starts) runs in the
// same process: the SDKs send their segments to it and their stdout lines
// reach it too, and it shows the service map, the traces with their logs
// and the EMF metrics at http://127.0.0.1:8900 (-console).
// The demo stops after -duration or -requests when given, else on Ctrl-C.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/examples/internal/fulfilment"
	"github.com/o11y-go/o11y/examples/internal/orders"
	"github.com/o11y-go/o11y/examples/internal/segsink"
	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/middleware/grpcmw"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Options are the demo's flags.
type Options struct {
	Duration    time.Duration
	Requests    int
	RPS         float64
	FailPercent int
	Verbose     bool
	Namespace   string
	Console     string // UI address of the in-process console; "" or "-": none

	consoleReady func(*demoConsole) // tests: called once the console listens
}

// Main parses args, runs the demo and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.DurationVar(&o.Duration, "duration", 0, "how long to send traffic, then stop (0: until interrupted)")
	fs.StringVar(&o.Console, "console", "127.0.0.1:8900", "address of the local console's UI (- for none)")
	fs.IntVar(&o.Requests, "requests", 0, "stop after this many requests (0: no limit)")
	fs.Float64Var(&o.RPS, "rps", 8, "requests per second")
	fs.IntVar(&o.FailPercent, "fail", 8, "percentage of inventory calls that fail (gRPC Unavailable)")
	fs.BoolVar(&o.Verbose, "v", false, "print every segment the daemon receives")
	fs.StringVar(&o.Namespace, "namespace", "o11y-demo", "CloudWatch namespace of the EMF documents")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Duration < 0 || o.RPS <= 0 || o.Requests < 0 || o.FailPercent < 0 || o.FailPercent > 100 {
		fmt.Fprintln(stderr, "demo: -duration must be >= 0, -rps positive, -requests >= 0, -fail in 0..100")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := Run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	return 0
}

// Stats is what one run produced.
type Stats struct {
	Requests  int
	Statuses  map[int]int
	Segments  int
	Traces    int
	LogLines  int
	EMFDocs   int
	BadLines  int
	ByService map[string]int
	Example   string
	// Fulfilled is how many "order placed" messages the worker handled.
	Fulfilled int
}

// countingWriter receives every JSON line of the three SDKs (through one
// shared line writer, so lines never interleave), counts logs and EMF
// documents, and passes them on.
type countingWriter struct {
	w    io.Writer
	logs atomic.Int64
	emf  atomic.Int64
	bad  atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		switch {
		case len(line) == 0:
		case bytes.HasPrefix(line, []byte(`{"_aws"`)):
			c.emf.Add(1)
		case len(line) > 0 && line[0] == '{':
			c.logs.Add(1)
		default:
			c.bad.Add(1)
		}
	}
	return c.w.Write(p)
}

// Run starts the services, sends traffic until ctx ends, the duration
// passes or the request budget is spent, shuts everything down (flushing
// every signal), and prints the summary on human.
func Run(ctx context.Context, o Options, stdout, human io.Writer) (Stats, error) {
	st := Stats{Statuses: map[int]int{}, ByService: map[string]int{}}

	daemon, err := segsink.Listen("127.0.0.1:0")
	if err != nil {
		return st, err
	}
	defer daemon.Close()
	view := newTraceView(human, o.Verbose)
	daemon.OnSegment(view.add)

	var cons *demoConsole
	if o.Console != "" && o.Console != "-" {
		if cons, err = startConsole(o.Console, daemon.Addr(), human); err != nil {
			return st, err
		}
		defer cons.Close()
		stdout = io.MultiWriter(stdout, cons.LineWriter())
		if o.consoleReady != nil {
			o.consoleReady(cons)
		}
	}
	out := &countingWriter{w: stdout}
	lines := linewriter.New(out)

	start := func(name string, global bool) (*o11y.SDK, error) {
		cfg := o11y.Config{
			ServiceName:              name,
			ServiceVersion:           "demo",
			Environment:              "local",
			Output:                   lines,
			DisableResourceDetection: true,
			DisableGlobals:           !global,
		}
		cfg.Traces.Exporter = "xray"
		cfg.Traces.DaemonAddress = daemon.Addr()
		if cons != nil {
			cfg.Traces.DaemonAddress = cons.Addr("xray")
		}
		cfg.Traces.Sampler = "always_on"
		cfg.Metrics.Namespace = o.Namespace
		cfg.Metrics.FlushInterval = 2 * time.Second
		return o11y.Start(ctx, cfg)
	}
	// orders uses tracing.Start and logging.FromContext, which use the
	// global SDK: make it the global one; the other two stay private.
	gatewaySDK, err := start("gateway", false)
	if err != nil {
		return st, fmt.Errorf("gateway SDK: %w", err)
	}
	ordersSDK, err := start("orders", true)
	if err != nil {
		return st, fmt.Errorf("orders SDK: %w", err)
	}
	inventorySDK, err := start("inventory", false)
	if err != nil {
		return st, fmt.Errorf("inventory SDK: %w", err)
	}
	fulfilmentSDK, err := start("fulfilment", false)
	if err != nil {
		return st, fmt.Errorf("fulfilment SDK: %w", err)
	}
	sdks := []*o11y.SDK{gatewaySDK, ordersSDK, inventorySDK, fulfilmentSDK}

	// The SQS leg: a fake SQS endpoint in this process (no AWS account),
	// the orders service publishing "order placed" with an awsmw-instrumented
	// client, and the fulfilment worker consuming it (the same code as
	// examples/ecs/worker).
	sqsFake := awsfake.Start()
	defer sqsFake.Close()
	queueURL := sqsFake.QueueURL("orders")
	publisher := fulfilment.NewPublisher(fulfilment.LocalConfig(sqsFake.URL), queueURL,
		awsmw.WithTracerProvider(ordersSDK.TracerProvider()))
	worker := &fulfilment.Worker{Config: fulfilment.LocalConfig(sqsFake.URL), QueueURL: queueURL, SDK: fulfilmentSDK}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); worker.Run(workerCtx) }()

	// inventory: gRPC.
	invLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return st, err
	}
	grpcSrv := grpc.NewServer(grpcmw.ServerOptions(inventorySDK)...)
	grpcSrv.RegisterService(&inventoryDesc, &inventory{sdk: inventorySDK, failPercent: o.FailPercent})
	go func() { _ = grpcSrv.Serve(invLn) }()

	conn, err := grpc.NewClient(invLn.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcmw.NewClientHandler(ordersSDK, grpcmw.WithPeerService("inventory"))))
	if err != nil {
		return st, err
	}

	// orders: HTTP, the same handler as examples/ecs and examples/apprunner.
	ordersSrv, ordersURL, err := serve(orders.NewHandler(orders.Options{
		SDK:           ordersSDK,
		Inventory:     grpcInventory{conn},
		Queue:         publisher,
		ChargeLatency: time.Millisecond,
	}))
	if err != nil {
		return st, err
	}
	// gateway: HTTP.
	gatewaySrv, gatewayURL, err := serve(newGateway(gatewaySDK, ordersURL))
	if err != nil {
		return st, err
	}

	daemonAddr := daemon.Addr()
	if cons != nil {
		daemonAddr = cons.Addr("xray") + " (the local console, UI " + cons.URL() + ")"
	}
	legend(human, o, gatewayURL, ordersURL, invLn.Addr().String(), daemonAddr)

	// Traffic.
	began := time.Now()
	sent := traffic(ctx, o, gatewayURL, human, &st, daemon, out)
	elapsed := time.Since(began)

	// Shutdown, in the order a real deployment would: stop accepting and
	// drain (gateway first), then flush every SDK in parallel within the
	// SDK's own share of the stop budget (orders.FlushTimeout, 5 s, as the
	// deployable examples use).
	dctx, cancelDrain := context.WithTimeout(context.Background(), orders.DrainTimeout)
	defer cancelDrain()
	_ = gatewaySrv.Shutdown(dctx)
	_ = ordersSrv.Shutdown(dctx)
	_ = conn.Close()
	grpcSrv.GracefulStop()
	// Let the worker take what checkout published (bounded), then stop it.
	pending := func() bool {
		for _, m := range sqsFake.Messages(queueURL) {
			if !m.Deleted {
				return true
			}
		}
		return false
	}
	for i := 0; i < 40 && pending(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	stopWorker()
	<-workerDone
	st.Fulfilled = int(worker.Stats().Fulfilled)
	sctx, cancel := context.WithTimeout(context.Background(), orders.FlushTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	for _, s := range sdks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(sctx); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Datagrams sent during the flush may still be in the socket buffer.
	last := -1
	for i := 0; i < 20 && daemon.Datagrams() != last; i++ {
		last = daemon.Datagrams()
		time.Sleep(50 * time.Millisecond)
	}

	segs := daemon.Segments()
	st.Requests = sent
	st.Segments = len(segs)
	st.Traces = len(segsink.ByTrace(segs))
	st.LogLines = int(out.logs.Load())
	st.EMFDocs = int(out.emf.Load())
	st.BadLines = int(out.bad.Load())
	for _, s := range segs {
		if !s.IsSubsegment() {
			st.ByService[s.Name]++
		}
	}
	st.Example = view.summary(segs, st, elapsed, o.Namespace, daemon.Addr())
	if len(errs) > 0 {
		return st, errors.Join(errs...)
	}
	return st, nil
}

func serve(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

// traffic sends a request mix to the gateway at o.RPS until the duration,
// the request budget or ctx ends, and returns how many it sent.
func traffic(ctx context.Context, o Options, gatewayURL string, human io.Writer, st *Stats, daemon *segsink.Sink, out *countingWriter) int {
	ctx, cancel := context.WithCancel(ctx)
	if o.Duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
	}
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.RPS))
	defer tick.Stop()
	progress := time.NewTicker(2 * time.Second)
	defer progress.Stop()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 16)
	sent := 0
	began := time.Now()
	for o.Requests == 0 || sent < o.Requests {
		select {
		case <-ctx.Done():
			wg.Wait()
			return sent
		case <-progress.C:
			mu.Lock()
			fmt.Fprintf(human, "  … %4.1fs  %d requests · %d segments · %d log lines · %d EMF documents\n",
				time.Since(began).Seconds(), sent, daemon.Datagrams(), out.logs.Load(), out.emf.Load())
			mu.Unlock()
			continue
		case <-tick.C:
		}
		method, path, body := pick(sent)
		sent++
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			req, _ := http.NewRequest(method, gatewayURL+path, rd)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			code := 0
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			mu.Lock()
			st.Statuses[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent
}

// pick chooses the next request: mostly order look-ups and checkouts, a few
// unknown orders (404) and, once in a while, the route that panics. The
// first three requests show one of each outcome even in a short run.
func pick(n int) (method, path, body string) {
	switch r := rand.IntN(100); {
	case n == 0:
		return http.MethodPost, "/api/checkout", fmt.Sprintf(`{"order_id":"%d"}`, 20000+n)
	case n == 2 || r < 3:
		return http.MethodGet, "/api/boom", ""
	case n == 1 || r < 10:
		return http.MethodGet, "/api/orders/not-a-number", ""
	case r < 55:
		return http.MethodGet, fmt.Sprintf("/api/orders/%d", 1000+rand.IntN(9000)), ""
	default:
		return http.MethodPost, "/api/checkout", fmt.Sprintf(`{"order_id":"%d"}`, 20000+n)
	}
}

func legend(w io.Writer, o Options, gateway, orders, inventory, daemon string) {
	limit := fmt.Sprintf("%v", o.Duration)
	if o.Duration == 0 {
		limit = "until Ctrl-C"
	}
	if o.Requests > 0 {
		limit += fmt.Sprintf(" or %d requests", o.Requests)
	}
	fmt.Fprintf(w, `
o11y demo: four services in this process, no AWS account needed
  client ─HTTP→ gateway %s ─HTTP→ orders %s ─gRPC→ inventory %s
                                    orders ─SQS (fake, in process)→ fulfilment worker
  traces  → X-Ray daemon protocol (UDP) to %s; trace trees below (stderr)
  logs    → JSON lines on stdout: msg, xray_trace_id, trace_id, span_id, request_id, …
  metrics → EMF JSON lines on stdout ({"_aws":…}), namespace %q, flushed every 2 s
  Only JSON: 2>/dev/null | jq .    Only this view: >/dev/null    Keep both: > demo.jsonl
  Sending ~%.0f requests/s for %s …

`, strings.TrimPrefix(gateway, "http://"), strings.TrimPrefix(orders, "http://"), inventory, daemon, o.Namespace, o.RPS, limit)
}
