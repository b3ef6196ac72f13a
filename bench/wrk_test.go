package bench

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xraysegment"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// Flags of TestWrkLoopback (bench/wrk.sh passes -wrk and the rest).
var (
	wrkFull     = flag.Bool("wrk", false, "run the full wrk loopback comparison (about 5 minutes with the defaults)")
	wrkRounds   = flag.Int("wrk.rounds", 10, "interleaved rounds (variant order rotates each round)")
	wrkDuration = flag.Duration("wrk.duration", 5*time.Second, "wrk run per variant per round (whole seconds)")
	wrkWarmup   = flag.Duration("wrk.warmup", 3*time.Second, "unmeasured wrk run per variant before the rounds (0: none)")
	wrkThreads  = flag.Int("wrk.threads", 1, "wrk -t")
	wrkConns    = flag.Int("wrk.conns", 8, "wrk -c (keep-alive connections)")
	wrkPipeline = flag.Int("wrk.pipeline", 1, "requests wrk writes at once on each connection (HTTP/1.1 pipelining; 1: none, as a load balancer sends)")
	wrkVariants = flag.String("wrk.variants", "", "comma-separated variants (default: "+strings.Join(wrkDefaultVariants, ",")+
		"; also available: o11y-daemon-unpaced, the daemon sender with pacing off, to show loss)")
	wrkHeader = flag.String("wrk.header", "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
		"X-Amzn-Trace-Id sent with every request")
	wrkOut     = flag.String("wrk.out", "", "also write the markdown report to this file")
	wrkStdout  = flag.String("wrk.stdout", "pipe", `the servers' stdout: "pipe" (drained by this process, as a log driver would) or "null" (/dev/null: no reader, to see what the drain costs)`)
	wrkProfile = flag.String("wrk.cpuprofile", "", "directory: each server process writes a CPU profile of its whole run to DIR/<variant>.pprof (go tool pprof -top)")
	wrkClient  = flag.String("wrk.client", "wrk", `the client: "wrk", or "go" (a Go client of wrk's class: raw keep-alive connections, a pre-built request, GOMAXPROCS = -wrk.threads)`)
)

// Environment of the server process.
const (
	wrkVariantEnv  = "O11Y_BENCH_WRK_VARIANT"
	wrkReceiverEnv = "O11Y_BENCH_WRK_RECEIVER"
	wrkProfileEnv  = "O11Y_BENCH_WRK_CPUPROFILE"
)

// wrkVariant is a server under test, built in the server process.
type wrkVariant struct {
	name string
	// receiver is the stand-in it exports to: "daemon" (reads like the
	// real X-Ray daemon), "collector" (OTLP/gRPC) or "" (none).
	receiver string
	// logs: the variant writes access lines (and EMF) to stdout.
	logs  bool
	build func(receiverAddr string) (http.Handler, *serverExport, error)
}

// serverExport is a variant's telemetry pipeline inside the server process.
type serverExport struct {
	flush    func()
	dropped  func() uint64
	shutdown func()
}

var wrkDefaultVariants = []string{"bare", "otelhttp-otlp", "xray-sdk", "o11y-daemon", "o11y-otlp"}

// o11yProcessSDK is o11y as a service starts it, all three signals on and
// every setting at its default except the receiver: traces (the default
// X-Ray sampler, parent-based, so the request header's Sampled=1 decides),
// EMF metrics and JSON access lines, both to stdout. Resource detection is
// off (no platform to detect on loopback).
func o11yProcessSDK(traces o11y.TracesConfig) (*o11y.SDK, *serverExport, error) {
	sdk, err := o11y.Start(context.Background(), o11y.Config{
		ServiceName:              "orders",
		Output:                   os.Stdout,
		DisableResourceDetection: true,
		Traces:                   traces,
	})
	if err != nil {
		return nil, nil, err
	}
	var reported o11y.Stats
	return sdk, &serverExport{
		flush: func() {
			_ = sdk.ForceFlush(context.Background())
			// Say which counter moved when anything was not delivered.
			st := sdk.Stats()
			if st.SpansDropped != reported.SpansDropped || st.SpanSendErrors != reported.SpanSendErrors ||
				st.OTLPSpansFailed != reported.OTLPSpansFailed || st.DaemonDrops != reported.DaemonDrops {
				fmt.Fprintf(os.Stderr, "wrk server: o11y counters: queue drops %d, datagrams refused %d, OTLP failed %d, daemon socket drops %d\n",
					st.SpansDropped, st.SpanSendErrors, st.OTLPSpansFailed, st.DaemonDrops)
				reported = st
			}
		},
		dropped: func() uint64 {
			// Everything the SDK counted as not delivered: queue drops,
			// datagrams the socket refused, failed or rejected OTLP exports,
			// and datagrams the daemon's socket dropped (its own counter,
			// which the SDK reads; only this server sends to the stand-in).
			st := sdk.Stats()
			return st.SpansDropped + st.SpanSendErrors + st.OTLPSpansFailed + st.DaemonDrops
		},
		shutdown: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = sdk.Shutdown(ctx)
		},
	}, nil
}

func wrkAllVariants() []wrkVariant {
	nothing := func() {}
	none := func() uint64 { return 0 }
	return []wrkVariant{
		{"bare", "", false, func(string) (http.Handler, *serverExport, error) {
			return ordersMux(), &serverExport{nothing, none, nothing}, nil
		}},
		{"otelhttp-otlp", "collector", false, func(addr string) (http.Handler, *serverExport, error) {
			tp, err := newOTelTracerProvider(addr)
			if err != nil {
				return nil, nil, err
			}
			h := otelhttp.NewHandler(ordersMux(), "orders", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(otelPropagator()))
			return h, &serverExport{
				flush:   func() { _ = tp.ForceFlush(context.Background()) },
				dropped: none,
				shutdown: func() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = tp.Shutdown(ctx)
				},
			}, nil
		}},
		{"xray-sdk", "daemon", false, func(addr string) (http.Handler, *serverExport, error) {
			xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
			// The header's Sampled=1 decides; the strategy only keeps the
			// SDK from polling sampling rules through the daemon.
			if err := xray.Configure(xray.Config{DaemonAddr: addr, SamplingStrategy: alwaysSample{}}); err != nil {
				return nil, nil, err
			}
			// Segments are sent synchronously when they close: nothing to flush.
			return xray.Handler(xray.NewFixedSegmentNamer("orders"), ordersMux()), &serverExport{nothing, none, nothing}, nil
		}},
		{"o11y-daemon", "daemon", true, func(addr string) (http.Handler, *serverExport, error) {
			sdk, e, err := o11yProcessSDK(o11y.TracesConfig{Exporter: "xray", DaemonAddress: addr})
			if err != nil {
				return nil, nil, err
			}
			return httpmw.New(sdk)(ordersMux()), e, nil
		}},
		{"o11y-otlp", "collector", true, func(addr string) (http.Handler, *serverExport, error) {
			sdk, e, err := o11yProcessSDK(o11y.TracesConfig{Exporter: "otlp", OTLPEndpoint: "http://" + addr})
			if err != nil {
				return nil, nil, err
			}
			return httpmw.New(sdk)(ordersMux()), e, nil
		}},
		// Not in the default set: the daemon sender with pacing off (the
		// sender before pacing), to show what a kernel-default receiver
		// loses when datagrams arrive faster than one reader drains them.
		// The processor is built with the options o11y.Start gives it
		// (start_traces.go) except SendRate.
		{"o11y-daemon-unpaced", "daemon", true, func(addr string) (http.Handler, *serverExport, error) {
			p, err := xrayudp.NewSpanProcessor(xrayudp.Options{
				DaemonAddress: addr,
				Segments:      xraysegment.Config{IndexedAttributes: []string{"http.request.id"}},
				SendRate:      -1,
			})
			if err != nil {
				return nil, nil, err
			}
			sdk, e, err := o11yProcessSDK(o11y.TracesConfig{Exporter: "none", SpanProcessors: []sdktrace.SpanProcessor{p}})
			if err != nil {
				return nil, nil, err
			}
			e.dropped = func() uint64 { st := p.Stats(); return st.Dropped + st.Errors }
			return httpmw.New(sdk)(ordersMux()), e, nil
		}},
	}
}

// runWrkServer is the server process: it serves GET /orders/{id} through
// one variant on a loopback port, its stdout (o11y's access lines and EMF)
// going to a pipe the harness drains. It talks to the harness over fd 3
// (answers) and stdin (commands): "stats" → "STATS served dropped",
// "flush" → waits for requests in flight, flushes the exporter, "FLUSHED".
// It exits when stdin closes.
func runWrkServer() {
	ctl := os.NewFile(3, "control")
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "wrk server:", err)
		os.Exit(1)
	}
	name := os.Getenv(wrkVariantEnv)
	i := slices.IndexFunc(wrkAllVariants(), func(v wrkVariant) bool { return v.name == name })
	if i < 0 {
		fail(fmt.Errorf("unknown variant %q", name))
	}
	h, e, err := wrkAllVariants()[i].build(os.Getenv(wrkReceiverEnv))
	if err != nil {
		fail(err)
	}
	if dir := os.Getenv(wrkProfileEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".pprof"))
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	// served counts requests whose handler has returned: by then every
	// variant has ended (o11y, otelhttp) or sent (X-Ray SDK) the span.
	var served, inflight atomic.Int64
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		h.ServeHTTP(w, r)
		served.Add(1)
		inflight.Add(-1)
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	// open counts the server's connections: a connection's pipelined or
	// buffered requests are all served before it reaches StateClosed, so
	// once wrk has exited and every connection is closed no handler can
	// start any more.
	var open atomic.Int64
	srv := &http.Server{Handler: counted, ConnState: func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}}
	go func() { _ = srv.Serve(lis) }()
	fmt.Fprintf(ctl, "ADDR %s\n", lis.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "stats":
			fmt.Fprintf(ctl, "STATS %d %d\n", served.Load(), e.dropped())
		case "flush":
			// wrk closes its connections when its time is up; requests it
			// had sent may still be in a handler, or read and not yet in
			// one (pipelined requests are served after the client left).
			// Waiting for in-flight handlers alone let such a request end
			// its span after the flush while its count went to this round.
			deadline := time.Now().Add(5 * time.Second)
			for (open.Load() > 0 || inflight.Load() > 0) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if n, k := open.Load(), inflight.Load(); n > 0 || k > 0 {
				fmt.Fprintf(os.Stderr, "wrk server: flushing with %d connections open and %d requests in flight\n", n, k)
			}
			e.flush()
			fmt.Fprintln(ctl, "FLUSHED")
		}
	}
	_ = srv.Close()
	e.shutdown()
}

// wrkParty is one variant's server process and its receiver stand-in.
type wrkParty struct {
	v        wrkVariant
	recv     *standin // nil for bare
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	ctl      *bufio.Scanner
	addr     string
	logLines atomic.Int64 // lines the server wrote to stdout
	drained  chan struct{}
}

func startWrkParty(t *testing.T, v wrkVariant) *wrkParty {
	t.Helper()
	p := &wrkParty{v: v, drained: make(chan struct{})}
	var recvAddr string
	if v.receiver != "" {
		p.recv = startStandin(t, v.receiver)
		recvAddr = p.recv.Addr
	}
	cr, cw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), standinEnv+"=wrkserver", wrkVariantEnv+"="+v.name, wrkReceiverEnv+"="+recvAddr, wrkProfileEnv+"="+*wrkProfile)
	cmd.ExtraFiles = []*os.File{cw}
	cmd.Stderr = os.Stderr
	var stdout io.ReadCloser
	if *wrkStdout == "null" {
		close(p.drained) // cmd.Stdout nil: the child's stdout is /dev/null
	} else if stdout, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cw.Close()
	p.cmd = cmd
	p.ctl = bufio.NewScanner(cr)
	// The log driver: drain stdout as fast as it comes, counting lines.
	if stdout != nil {
		go p.drain(stdout)
	}
	t.Cleanup(func() {
		p.stop()
		cr.Close()
	})
	line := p.expect(t, "ADDR ")
	p.addr = line
	return p
}

// drain reads the server's stdout as a container log driver would, counting
// lines.
func (p *wrkParty) drain(stdout io.Reader) {
	defer close(p.drained)
	buf := make([]byte, 256<<10)
	for {
		n, err := stdout.Read(buf)
		p.logLines.Add(int64(bytes.Count(buf[:n], []byte{'\n'})))
		if err != nil {
			return
		}
	}
}

// stop ends the server (it shuts its SDK down, flushing, and exits when
// stdin closes) and returns once its stdout has been read to the end.
func (p *wrkParty) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.stdin.Close()
	select {
	case <-p.drained:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
	}
	_ = p.cmd.Wait()
}

// expect reads control lines until one starts with prefix and returns the rest.
func (p *wrkParty) expect(t *testing.T, prefix string) string {
	t.Helper()
	for p.ctl.Scan() {
		if rest, ok := strings.CutPrefix(p.ctl.Text(), prefix); ok {
			return rest
		}
	}
	t.Fatalf("%s server: no %q line (exited?)", p.v.name, prefix)
	return ""
}

func (p *wrkParty) send(t *testing.T, cmd string) {
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		t.Fatalf("%s server: %v", p.v.name, err)
	}
}

// stats returns the requests served so far and the spans the SDK dropped.
func (p *wrkParty) stats(t *testing.T) (served int64, dropped uint64) {
	p.send(t, "stats")
	if _, err := fmt.Sscan(p.expect(t, "STATS "), &served, &dropped); err != nil {
		t.Fatal(err)
	}
	return served, dropped
}

func (p *wrkParty) flush(t *testing.T) {
	p.send(t, "flush")
	p.expect(t, "FLUSHED")
}

// received is what the receiver has counted (datagrams or spans), after
// it handled everything its socket held; 0 without a receiver.
func (p *wrkParty) received(t *testing.T) int64 {
	if p.recv == nil {
		return 0
	}
	n := p.recv.Count()
	if n < 0 {
		t.Fatalf("%s: receiver count unavailable", p.v.name)
	}
	return n
}

// wrkResult is one wrk run as its done() hook reports it.
type wrkResult struct {
	requests, errors int64
	secs             float64
	p50, p99         time.Duration
	cpu              time.Duration // wrk's own user+system time
}

// wrkScript only reports: without request() or response() functions wrk
// sends its pre-built request and never enters Lua per request.
const wrkScript = `done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("WRKRESULT %.0f %.0f %.0f %.0f %.0f\n",
    s.requests, s.duration, e.connect + e.read + e.write + e.status + e.timeout,
    lat:percentile(50), lat:percentile(99)))
end
`

// wrkPipelineScript makes wrk write n copies of its request at once on a
// connection (wrk's own pipelining: it counts the n responses). wrk then
// enters Lua once per n requests.
func wrkPipelineScript(n int) string {
	return fmt.Sprintf(`init = function(args)
  local r = {}
  for i = 1, %d do r[i] = wrk.format() end
  pipelined = table.concat(r)
end
request = function() return pipelined end
`, n)
}

func runWrk(t *testing.T, script, url string, d time.Duration) wrkResult {
	t.Helper()
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command("wrk", "-t"+strconv.Itoa(*wrkThreads), "-c"+strconv.Itoa(*wrkConns),
		"-d"+strconv.Itoa(secs)+"s", "--latency", "-s", script, "-H", "X-Amzn-Trace-Id: "+*wrkHeader, url)
	if *wrkClient == "go" {
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), standinEnv+"=rawclient",
			"RAWCLIENT_ADDR="+strings.TrimPrefix(strings.TrimSuffix(url, "/orders/42"), "http://"),
			"RAWCLIENT_CONNS="+strconv.Itoa(*wrkConns), "RAWCLIENT_DURATION="+strconv.Itoa(secs)+"s",
			"RAWCLIENT_HEADER="+*wrkHeader, "GOMAXPROCS="+strconv.Itoa(*wrkThreads))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wrk: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var r wrkResult
	var durUS, p50, p99 float64
	_, line, ok := strings.Cut(stdout.String(), "WRKRESULT ")
	if !ok {
		t.Fatalf("wrk printed no result:\n%s%s", stdout.String(), stderr.String())
	}
	if _, err := fmt.Sscan(line, &r.requests, &durUS, &r.errors, &p50, &p99); err != nil {
		t.Fatalf("wrk result %q: %v", line, err)
	}
	r.secs = durUS / 1e6
	r.p50, r.p99 = time.Duration(p50)*time.Microsecond, time.Duration(p99)*time.Microsecond
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if r.errors > 0 {
		t.Errorf("wrk: %d errors (connect, read, write, non-2xx, timeout)\n%s", r.errors, stdout.String())
	}
	return r
}

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU is a process's user+system time over all its threads, from
// /proc/<pid>/stat (utime and stime, fields 14 and 15).
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineBusy is the CPU time all cores spent outside idle and iowait,
// from /proc/stat.
func machineBusy(t *testing.T) time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var busy int64
	for i, s := range strings.Fields(line)[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * clockTick
}

// wrkRound is one variant's measurement in one round.
type wrkRound struct {
	wrkResult
	served, spans, logLines int64
	dropped                 uint64
	serverCPU, recvCPU      time.Duration
	harnessCPU              time.Duration // this process: the stdout drain (the "log driver") and control
	othersCPU, wall         time.Duration // everything else the machine ran meanwhile
	// Per request: client per request completed, the others per request served.
	rps, clientUS, serverUS, recvUS, harnessUS float64
	others                                     float64 // othersCPU as a share of the machine
	// allUS is every party's CPU per request: server, receiver, stdout
	// drain and client. nproc/allUS is the rate the machine would sustain
	// if the benchmark had it alone and those costs stayed as measured: a
	// throughput figure that outside load disturbs far less than req/s.
	allUS float64
}

// measureWrk runs wrk against p for d and charges everything up to the end
// of the export flush to the round: server and receiver CPU per request
// served, the client's per request it completed.
func measureWrk(t *testing.T, p *wrkParty, script string, d time.Duration) wrkRound {
	served0, dropped0 := p.stats(t)
	recv0 := p.received(t)
	logs0 := p.logLines.Load()
	var rcpu0 time.Duration
	if p.recv != nil {
		rcpu0 = procCPU(t, p.recv.cmd.Process.Pid)
	}
	scpu0 := procCPU(t, p.cmd.Process.Pid)
	self0, _ := cpuTimes()
	busy0, wall0 := machineBusy(t), time.Now()

	r := wrkRound{wrkResult: runWrk(t, script, "http://"+p.addr+"/orders/42", d)}
	p.flush(t)
	recv1 := p.received(t)

	busy1, wall1 := machineBusy(t), time.Now()
	self1, _ := cpuTimes()
	scpu1 := procCPU(t, p.cmd.Process.Pid)
	var rcpu1 time.Duration
	if p.recv != nil {
		rcpu1 = procCPU(t, p.recv.cmd.Process.Pid)
	}
	served1, dropped1 := p.stats(t)

	r.served, r.spans, r.dropped = served1-served0, recv1-recv0, dropped1-dropped0
	r.logLines = p.logLines.Load() - logs0
	r.serverCPU, r.recvCPU, r.harnessCPU = scpu1-scpu0, rcpu1-rcpu0, self1-self0
	r.wall = wall1.Sub(wall0)
	r.othersCPU = (busy1 - busy0) - r.serverCPU - r.recvCPU - r.harnessCPU - r.cpu
	us := func(x time.Duration, n int64) float64 {
		if n <= 0 {
			return 0
		}
		return float64(x) / float64(n) / 1e3
	}
	r.rps = float64(r.requests) / r.secs
	r.clientUS = us(r.cpu, r.requests)
	r.serverUS, r.recvUS, r.harnessUS = us(r.serverCPU, r.served), us(r.recvCPU, r.served), us(r.harnessCPU, r.served)
	r.others = float64(r.othersCPU) / float64(r.wall) / float64(runtime.NumCPU())
	r.allUS = r.serverUS + r.recvUS + r.harnessUS + r.clientUS
	return r
}

// wrkInstalled returns wrk's path, or "" when it is not installed.
func wrkInstalled() string {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return path
}

// TestWrkLoopback is the loopback throughput comparison with every party in
// its own process: the server under test (this test binary re-executed, one
// per variant), the receiver stand-in (daemon-like UDP or OTLP collector,
// see standin_test.go) and wrk as the client. Run in full with -wrk (see
// docs/BENCHMARKS.md or bench/wrk.sh); without it a short smoke run checks
// that every variant serves, its spans are counted and wrk's CPU is
// measured. Timings are printed, never asserted.
func TestWrkLoopback(t *testing.T) {
	rounds, dur, warmup := *wrkRounds, *wrkDuration, *wrkWarmup
	names := wrkDefaultVariants
	if *wrkVariants != "" {
		names = strings.Split(*wrkVariants, ",")
	}
	if !*wrkFull {
		if testing.Short() {
			t.Skip("smoke run skipped in -short mode")
		}
		// Smoke: every variant once, briefly; counts are checked, timings
		// only printed.
		rounds, dur, warmup = 1, time.Second, 0
	}
	if *wrkClient == "wrk" && wrkInstalled() == "" {
		if os.Getenv("O11Y_BENCH_REQUIRE_WRK") != "" { // .ci/run installs wrk and sets it
			t.Fatal("wrk is not installed")
		}
		t.Skip("wrk is not installed: apt-get install -y wrk (bench/wrk.sh does it)")
	}
	if rounds < 1 {
		t.Fatal("-wrk.rounds must be at least 1")
	}
	all := wrkAllVariants()
	var vs []wrkVariant
	for _, n := range names {
		i := slices.IndexFunc(all, func(v wrkVariant) bool { return v.name == strings.TrimSpace(n) })
		if i < 0 {
			t.Fatalf("unknown variant %q", n)
		}
		vs = append(vs, all[i])
	}
	script := filepath.Join(t.TempDir(), "report.lua")
	lua := wrkScript
	if *wrkPipeline > 1 {
		if *wrkClient != "wrk" {
			t.Fatal("-wrk.pipeline needs -wrk.client=wrk")
		}
		lua += wrkPipelineScript(*wrkPipeline)
	}
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		t.Fatal(err)
	}
	load0, _ := os.ReadFile("/proc/loadavg")
	start := time.Now()
	parties := make([]*wrkParty, len(vs))
	for i, v := range vs {
		parties[i] = startWrkParty(t, v)
		if warmup > 0 {
			runWrk(t, script, "http://"+parties[i].addr+"/orders/42", warmup)
			parties[i].flush(t)
		}
	}
	results := make([][]wrkRound, len(vs))
	for r := range rounds {
		for k := range vs {
			i := (r + k) % len(vs) // rotate the order each round
			res := measureWrk(t, parties[i], script, dur)
			results[i] = append(results[i], res)
			if testing.Verbose() {
				fmt.Printf("round %d %-20s %7.0f req/s  server %5.1f µs/req  receiver %4.1f  client %4.1f  p50 %v p99 %v  spans %d/%d  drops %d  log drain %.1f µs/req  machine busy elsewhere %.0f%%\n",
					r+1, vs[i].name, res.rps, res.serverUS, res.recvUS, res.clientUS, res.p50, res.p99,
					res.spans, res.served, res.dropped, res.harnessUS, 100*res.others)
			}
		}
	}
	load1, _ := os.ReadFile("/proc/loadavg")
	report := wrkReport(vs, results, rounds, dur, warmup, time.Since(start), string(load0), string(load1))
	fmt.Print(report)
	if *wrkOut != "" {
		if err := os.WriteFile(*wrkOut, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}

	// Counts, never timings.
	for i, v := range vs {
		for _, res := range results[i] {
			if res.requests <= 0 || res.served < res.requests {
				t.Errorf("%s: wrk completed %d requests, the server served %d", v.name, res.requests, res.served)
			}
			if res.cpu <= 0 {
				t.Errorf("%s: wrk's CPU time was not measured", v.name)
			}
			if v.receiver != "" && res.spans <= 0 {
				t.Errorf("%s: the %s stand-in counted no spans for %d requests", v.name, v.receiver, res.served)
			}
			// o11y accounts for every span: received, or counted as not
			// delivered. (The unpaced sender does not read the daemon's
			// socket, so its losses there go uncounted: that is what it shows.)
			if v.logs && v.name != "o11y-daemon-unpaced" && int64(res.dropped)+res.spans != res.served {
				t.Errorf("%s: %d spans received + %d counted as not delivered != %d requests served",
					v.name, res.spans, res.dropped, res.served)
			}
		}
		// The drain may still be behind when a round ends; once the server
		// has exited, every line it wrote has been read.
		if v.logs && *wrkStdout != "null" {
			parties[i].stop()
			var served int64
			for _, res := range results[i] {
				served += res.served
			}
			if lines := parties[i].logLines.Load(); lines < served {
				t.Errorf("%s: %d lines on stdout for %d requests (one access line each expected)", v.name, lines, served)
			}
		}
	}
}

// wrkReport renders the method and the table (median and range over the
// rounds) as markdown.
func wrkReport(vs []wrkVariant, results [][]wrkRound, rounds int, dur, warmup, took time.Duration, load0, load1 string) string {
	var b strings.Builder
	model := "unknown"
	if ci, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(ci), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	wrkVersion := "wrk"
	if out, _ := exec.Command("wrk", "-v").CombinedOutput(); len(out) > 0 {
		wrkVersion, _, _ = strings.Cut(string(out), " Copyright")
	}
	fmt.Fprintf(&b, "\n### wrk loopback, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s, nproc %d, Linux %s, %s, %s.\n", model, runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version(), strings.TrimSpace(wrkVersion))
	if *wrkClient == "go" {
		fmt.Fprintf(&b, "- Client: the Go client of wrk's class (-wrk.client=go): %d keep-alive connections, GOMAXPROCS=%d, pre-built GET /orders/42 with 'X-Amzn-Trace-Id: %s'.\n",
			*wrkConns, *wrkThreads, *wrkHeader)
	} else {
		fmt.Fprintf(&b, "- Client: `wrk -t%d -c%d -d%ds --latency -H 'X-Amzn-Trace-Id: %s'`, keep-alive, GET /orders/42.\n",
			*wrkThreads, *wrkConns, int(dur.Round(time.Second)/time.Second), *wrkHeader)
		if *wrkPipeline > 1 {
			fmt.Fprintf(&b, "- **Pipelined:** wrk writes %d requests at once on each connection (HTTP/1.1 pipelining), which a load balancer does not do.\n", *wrkPipeline)
		}
	}
	var set []string
	flag.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "wrk.") && f.Name != "wrk.out" {
			set = append(set, "-"+f.Name+"="+f.Value.String())
		}
	})
	fmt.Fprintf(&b, "- Command: `%s` (servers at GOMAXPROCS %d; production queue sizes; o11y logs and EMF to stdout).\n",
		strings.TrimSpace("bench/wrk.sh "+strings.Join(set, " ")), runtime.NumCPU())
	fmt.Fprintf(&b, "- %d interleaved rounds (order rotated each round), %v per variant per round after a %v warm-up; median (min–max) of the rounds; run took %v.\n",
		rounds, dur, warmup, took.Round(time.Second))
	fmt.Fprintf(&b, "- Load average before: %s; after: %s.\n", loadFields(load0), loadFields(load1))
	var others []float64
	for _, rs := range results {
		for _, r := range rs {
			others = append(others, 100*r.others)
		}
	}
	fmt.Fprintf(&b, "- CPU used by processes outside the benchmark while it measured: median %.0f %% of the machine (max %.0f %%).\n\n",
		median(others), slices.Max(others))

	bare := slices.IndexFunc(vs, func(v wrkVariant) bool { return v.name == "bare" })
	b.WriteString("| server | req/s | % of bare | server CPU µs/req | receiver CPU µs/req | stdout drain CPU µs/req | client CPU µs/req | p50 ms | p99 ms | all parties CPU µs/req | capacity % of bare | spans received / requests | SDK drops + failures | stdout lines/req |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var overBudget []string
	for i, v := range vs {
		rs := results[i]
		col := func(f func(wrkRound) float64) []float64 {
			xs := make([]float64, len(rs))
			for k, r := range rs {
				xs[k] = f(r)
			}
			return xs
		}
		pct, capPct := "—", "—"
		if bare >= 0 && v.name != "bare" {
			var caps []float64
			for k, r := range rs {
				caps = append(caps, 100*results[bare][k].allUS/r.allUS)
			}
			capPct = medRange(caps, "%.0f", " %")
			// The ratio within each round, then its median: a burst of
			// outside load hits a round's variants alike.
			var ratios []float64
			for k, r := range rs {
				ratios = append(ratios, 100*r.rps/results[bare][k].rps)
			}
			pct = medRange(ratios, "%.0f", " %")
		} else if v.name == "bare" {
			pct, capPct = "100 %", "100 %"
		}
		recv := "—"
		spans := "—"
		if v.receiver != "" {
			recv = medRange(col(func(r wrkRound) float64 { return r.recvUS }), "%.1f", "")
			var got, want int64
			for _, r := range rs {
				got += r.spans
				want += r.served
			}
			spans = fmt.Sprintf("%d / %d", got, want)
			if got != want {
				spans += fmt.Sprintf(" (%+.2f %%)", 100*float64(got-want)/float64(want))
			}
		}
		client := medRange(col(func(r wrkRound) float64 { return r.clientUS }), "%.1f", "")
		if slices.Max(col(func(r wrkRound) float64 { return r.clientUS })) > 10 {
			client += " ⚠"
			overBudget = append(overBudget, v.name)
		}
		var drops uint64
		var lines, served int64
		for _, r := range rs {
			drops += r.dropped
			lines += r.logLines
			served += r.served
		}
		linesPerReq := fmt.Sprintf("%.2f", float64(lines)/float64(max(served, 1)))
		if *wrkStdout == "null" {
			linesPerReq = "— (/dev/null)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			v.name,
			medRange(col(func(r wrkRound) float64 { return r.rps }), "%.0f", ""),
			pct,
			medRange(col(func(r wrkRound) float64 { return r.serverUS }), "%.1f", ""),
			recv,
			medRange(col(func(r wrkRound) float64 { return r.harnessUS }), "%.1f", ""),
			client,
			medRange(col(func(r wrkRound) float64 { return float64(r.p50) / 1e6 }), "%.2f", ""),
			medRange(col(func(r wrkRound) float64 { return float64(r.p99) / 1e6 }), "%.2f", ""),
			medRange(col(func(r wrkRound) float64 { return r.allUS }), "%.0f", ""), capPct,
			spans, drops, linesPerReq)
	}
	b.WriteString("\nServer and receiver CPU are per request served, from /proc/<pid>/stat over the wrk run and the export flush after it; client CPU is the client's own (rusage) per request completed. ")
	b.WriteString("All parties: server + receiver + stdout drain + client CPU per request; capacity % of bare: bare's all-parties CPU per request over the variant's, within each round, then the median (the throughput ratio if the benchmark had the machine alone and each party's CPU per request stayed as measured; outside load disturbs it far less than req/s). ")
	b.WriteString("stdout drain CPU is the harness process reading the server's stdout pipe (the log driver's share; it also answers the control pipes, a few µs per round). ")
	b.WriteString("Spans received: datagrams handled by the daemon-like stand-in or spans counted by the collector stand-in, against requests the server completed; SDK drops + failures: spans o11y counted as not delivered (queue full, datagram refused, OTLP export failed or rejected, dropped by the daemon's socket); the other SDKs count none. ")
	b.WriteString("stdout lines: access lines and EMF documents the server wrote to its drained stdout pipe.\n")
	if len(overBudget) > 0 {
		fmt.Fprintf(&b, "\n⚠ client CPU above 10 µs/request in at least one round for: %s; the client then takes CPU the server would use.\n", strings.Join(overBudget, ", "))
	}
	return b.String()
}

func loadFields(s string) string {
	f := strings.Fields(s)
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// medRange formats "median (min–max)", or the single value for one round.
func medRange(xs []float64, format, unit string) string {
	if len(xs) == 1 {
		return fmt.Sprintf(format, xs[0]) + unit
	}
	return fmt.Sprintf(format+"%s (%s–%s)", median(xs), unit, fmt.Sprintf(format, slices.Min(xs)), fmt.Sprintf(format, slices.Max(xs)))
}

// runRawClient is the Go client of wrk's class (-wrk.client=go): one
// goroutine per keep-alive connection writes a pre-built request and reads
// the response with a fixed buffer, no net/http. It prints the same
// WRKRESULT line as wrk's done() hook. GOMAXPROCS is set to the thread
// count by the harness.
func runRawClient() {
	addr := os.Getenv("RAWCLIENT_ADDR")
	conns, _ := strconv.Atoi(os.Getenv("RAWCLIENT_CONNS"))
	d, _ := time.ParseDuration(os.Getenv("RAWCLIENT_DURATION"))
	req := []byte("GET /orders/42 HTTP/1.1\r\nHost: " + addr + "\r\nX-Amzn-Trace-Id: " + os.Getenv("RAWCLIENT_HEADER") + "\r\n\r\n")
	var done, errs atomic.Int64
	// Latency histogram: 1 µs buckets up to 100 ms, the rest in the last.
	const buckets = 100_000
	hists := make([][]int64, conns)
	start := time.Now()
	deadline := start.Add(d)
	finished := make(chan struct{}, conns)
	for c := range conns {
		hists[c] = make([]int64, buckets+1)
		go func(hist []int64) {
			defer func() { finished <- struct{}{} }()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				errs.Add(1)
				return
			}
			defer conn.Close()
			buf := make([]byte, 16<<10)
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				if _, err := conn.Write(req); err != nil {
					errs.Add(1)
					return
				}
				if !readResponse(conn, buf) {
					errs.Add(1)
					return
				}
				us := time.Since(t0).Microseconds()
				hist[min(us, buckets)]++
				done.Add(1)
			}
		}(hists[c])
	}
	for range conns {
		<-finished
	}
	elapsed := time.Since(start)
	all := make([]int64, buckets+1)
	for _, h := range hists {
		for i, n := range h {
			all[i] += n
		}
	}
	pct := func(p float64) int {
		want := int64(p / 100 * float64(done.Load()))
		var seen int64
		for i, n := range all {
			if seen += n; seen >= want && seen > 0 {
				return i
			}
		}
		return buckets
	}
	fmt.Printf("WRKRESULT %d %d %d %d %d\n", done.Load(), elapsed.Microseconds(), errs.Load(), pct(50), pct(99))
}

// readResponse reads one HTTP/1.1 response with a Content-Length body
// (all the servers here send one) and reports whether it was a 200.
func readResponse(conn net.Conn, buf []byte) bool {
	n := 0
	for {
		m, err := conn.Read(buf[n:])
		if err != nil {
			return false
		}
		n += m
		head, _, ok := bytes.Cut(buf[:n], []byte("\r\n\r\n"))
		if !ok {
			if n == len(buf) {
				return false
			}
			continue
		}
		// net/http writes the canonical header name.
		i := bytes.Index(head, []byte("\r\nContent-Length: "))
		if i < 0 {
			return false
		}
		rest := head[i+len("\r\nContent-Length: "):]
		if j := bytes.IndexByte(rest, '\r'); j >= 0 {
			rest = rest[:j]
		}
		cl, err := strconv.Atoi(string(rest))
		if err != nil {
			return false
		}
		for n < len(head)+4+cl {
			m, err := conn.Read(buf[n:])
			if err != nil {
				return false
			}
			n += m
		}
		return bytes.HasPrefix(buf, []byte("HTTP/1.1 200 "))
	}
}
