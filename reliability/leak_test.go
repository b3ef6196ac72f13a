package reliability

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// verifyNoLeaks fails t if goroutines started after the call are still
// running when the returned function is called (goleak retries for a while,
// so goroutines that are finishing are not reported).
func verifyNoLeaks(t *testing.T) func() {
	t.Helper()
	opts := []goleak.Option{
		goleak.IgnoreCurrent(),
		// The OpenCensus-style stats worker some deps start on init.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	}
	return func() {
		t.Helper()
		goleak.VerifyNone(t, opts...)
	}
}

func leakConfig(t *testing.T, edit func(*o11y.Config)) o11y.Config {
	cfg := baseConfig(&lineBuf{}, &counter{})
	cfg.Metrics.FlushInterval = time.Second // the shortest interval
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

func shutdown(t *testing.T, sdk *o11y.SDK, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = sdk.Shutdown(ctx) // errors expected for unreachable endpoints; leaks are what is checked
}

// TestNoGoroutineLeaks checks that Start/Shutdown, the HTTP and gRPC
// middleware lifecycles and the exporter with an absent daemon leave no
// goroutine behind.
//
// Other tests of this package leave the OTLP exporter's background retries
// running for a while (by design, see the OTLP subtest), so this test runs
// itself in a fresh process.
func TestNoGoroutineLeaks(t *testing.T) {
	if os.Getenv(leakChildEnv) == "" {
		runInChild(t, "TestNoGoroutineLeaks")
		return
	}
	t.Run("sdk start/shutdown, every exporter absent", func(t *testing.T) {
		check := verifyNoLeaks(t)
		for _, edit := range []func(*o11y.Config){
			nil,
			func(c *o11y.Config) { c.Traces.Exporter, c.Traces.DaemonAddress = "xray", refusedAddr(t) },
			func(c *o11y.Config) {
				c.Traces.Exporter, c.Traces.DaemonAddress, c.Traces.CentralizedSampling = "xray", "tcp:"+refusedAddr(t)+" udp:"+refusedAddr(t), true
				c.Traces.Sampler = ""
			},
			func(c *o11y.Config) { c.Metrics.AgentEndpoint = "tcp://" + refusedAddr(t) },
			func(c *o11y.Config) { c.Metrics.AgentEndpoint = "udp://" + refusedAddr(t) },
			func(c *o11y.Config) { c.Disable = true },
		} {
			sdk, err := o11y.Start(context.Background(), leakConfig(t, edit))
			if err != nil {
				t.Fatal(err)
			}
			_, span := sdk.Tracer().Start(context.Background(), "one")
			span.End()
			sdk.Metrics().Operation("op").Observe(context.Background(), time.Millisecond, 0)
			shutdown(t, sdk, time.Second)
		}
		check()
	})

	// With an OTLP collector refusing connections the batch processor's
	// export keeps retrying; Shutdown must abort it when its deadline
	// passes, leaving nothing behind (goleak allows about a second for
	// goroutines to finish).
	t.Run("sdk start/shutdown, otlp collector refusing", func(t *testing.T) {
		check := verifyNoLeaks(t)
		var sdks []*o11y.SDK
		for _, proto := range []string{"grpc", "http/protobuf"} {
			sdk, err := o11y.Start(context.Background(), leakConfig(t, func(c *o11y.Config) {
				c.Traces.Exporter, c.Traces.OTLPProtocol, c.Traces.OTLPEndpoint = "otlp", o11y.OTLPProtocol(proto), "http://"+refusedAddr(t)
			}))
			if err != nil {
				t.Fatal(err)
			}
			_, span := sdk.Tracer().Start(context.Background(), "one")
			span.End()
			sdks = append(sdks, sdk)
		}
		for _, sdk := range sdks {
			shutdown(t, sdk, 500*time.Millisecond)
		}
		check()
	})

	t.Run("httpmw server and transport", func(t *testing.T) {
		check := verifyNoLeaks(t)
		sdk, err := o11y.Start(context.Background(), leakConfig(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		down := httptest.NewServer(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		})))
		tr := &http.Transport{}
		client := &http.Client{Transport: httpmw.Transport(sdk, tr)}
		front := httptest.NewServer(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, down.URL, nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(w, resp.Body)
			resp.Body.Close()
		})))
		for range 20 {
			resp, err := http.Get(front.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		// A body never read and never closed by the caller is the caller's
		// leak; a body closed early must end the span without a goroutine.
		req, _ := http.NewRequest(http.MethodGet, down.URL, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		tr.CloseIdleConnections()
		front.Close()
		down.Close()
		shutdown(t, sdk, 3*time.Second)
		check()
	})

	t.Run("grpcmw server and client", func(t *testing.T) {
		check := verifyNoLeaks(t)
		sdk, err := o11y.Start(context.Background(), leakConfig(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer(append(grpcmw.ServerOptions(sdk), grpc.StatsHandler(grpcmw.NewServerHandler(sdk)))...)
		healthpb.RegisterHealthServer(srv, health.NewServer())
		served := make(chan struct{})
		go func() { defer close(served); _ = srv.Serve(ln) }()
		conn, err := grpc.NewClient(ln.Addr().String(),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(grpcmw.NewClientHandler(sdk)))
		if err != nil {
			t.Fatal(err)
		}
		hc := healthpb.NewHealthClient(conn)
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			cancel()
		}
		// A stream cancelled mid-way.
		ctx, cancel := context.WithCancel(context.Background())
		if st, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{}); err == nil {
			_, _ = st.Recv()
		}
		cancel()
		_ = conn.Close()
		srv.GracefulStop()
		<-served
		shutdown(t, sdk, 3*time.Second)
		check()
	})

	t.Run("xray exporter with absent daemon", func(t *testing.T) {
		check := verifyNoLeaks(t)
		p, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: refusedAddr(t)})
		if err != nil {
			t.Fatal(err)
		}
		x, err := xrayudp.NewExporter(xrayudp.Options{DaemonAddress: refusedAddr(t)})
		if err != nil {
			t.Fatal(err)
		}
		cfg := leakConfig(t, nil)
		cfg.Traces.SpanProcessors = append(cfg.Traces.SpanProcessors, p)
		sdk, err := o11y.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			_, span := sdk.Tracer().Start(context.Background(), "s")
			span.End()
		}
		shutdown(t, sdk, 3*time.Second)
		_ = x.ExportSpans(context.Background(), nil)
		_ = x.Shutdown(context.Background())
		check()
	})
}

const leakChildEnv = "RELIABILITY_CHILD"

// runInChild re-runs the named test alone in a new process of this test
// binary and fails t if it fails, forwarding its output.
func runInChild(t *testing.T, name string) {
	t.Helper()
	args := []string{"-test.run=^" + name + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), leakChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.HasPrefix(l, "PASS") || strings.HasPrefix(l, "ok ") || l == "" {
			continue
		}
		t.Log(l)
	}
	if err != nil {
		t.Fatalf("%s in a fresh process: %v", name, err)
	}
}

// TestLeakCheckerDetects proves the check above can fail: a goroutine
// started after IgnoreCurrent and still blocked is found.
func TestLeakCheckerDetects(t *testing.T) {
	before := goleak.IgnoreCurrent()
	release := make(chan struct{})
	go func() { <-release }()
	if err := goleak.Find(before); err == nil {
		t.Error("a blocked goroutine was not reported")
	}
	close(release)
	if err := goleak.Find(before); err != nil {
		t.Errorf("released goroutine still reported: %v", err)
	}
}
