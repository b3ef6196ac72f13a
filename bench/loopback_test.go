package bench

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	loopback     = flag.Bool("loopback", false, "run the loopback throughput comparison (about a minute)")
	loopbackOnly = flag.String("loopback.only", "", "comma-separated variant names to run (bare is always included), for profiling one")
)

// runLoadgen is the client process: keep-alive GETs from a fixed number of
// workers until the request budget is spent; prints the elapsed seconds.
func runLoadgen() {
	url := os.Getenv("LOADGEN_URL")
	total, _ := strconv.Atoi(os.Getenv("LOADGEN_REQUESTS"))
	workers, _ := strconv.Atoi(os.Getenv("LOADGEN_WORKERS"))
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				resp, err := client.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("RESULT %f %d\n", time.Since(start).Seconds(), failed.Load())
}

// cpuTimes returns the user+system CPU time used so far by this process
// and by its waited-for children (the load generators).
func cpuTimes() (self, children time.Duration) {
	var ru syscall.Rusage
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = tv(ru.Utime) + tv(ru.Stime)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	children = tv(ru.Utime) + tv(ru.Stime)
	return self, children
}

// run is one measured round.
type run struct {
	rps       float64
	serverCPU time.Duration // per request: this process (server, instrumentation, exporters)
	clientCPU time.Duration // per request: the load generator
}

// measure serves h on loopback and returns requests/second as seen by a
// load generator in a child process, with the CPU time each side spent.
func measure(t *testing.T, h http.Handler, requests, workers int) run {
	self0, child0 := cpuTimes()
	rps := measureRPS(t, h, requests, workers)
	self1, child1 := cpuTimes()
	n := time.Duration(requests)
	return run{rps: rps, serverCPU: (self1 - self0) / n, clientCPU: (child1 - child0) / n}
}

func measureRPS(t *testing.T, h http.Handler, requests, workers int) float64 {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), standinEnv+"=loadgen",
		"LOADGEN_URL=http://"+lis.Addr().String()+"/orders/42",
		"LOADGEN_REQUESTS="+strconv.Itoa(requests),
		"LOADGEN_WORKERS="+strconv.Itoa(workers),
		"GOMAXPROCS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("loadgen: %v", err)
	}
	var secs float64
	var failed int
	line := strings.TrimSpace(string(out))
	if _, err := fmt.Sscanf(line[strings.LastIndex(line, "RESULT"):], "RESULT %f %d", &secs, &failed); err != nil {
		t.Fatalf("loadgen output %q: %v", out, err)
	}
	if failed > 0 {
		t.Fatalf("%d requests failed", failed)
	}
	return float64(requests) / secs
}

// TestLoopbackThroughput serves GET /orders/{id} through each variant on a
// real loopback server and reports its throughput relative to bare net/http.
// The variants are measured in interleaved rounds (so a burst of background
// load hits all of them alike) and each reports its median round.
func TestLoopbackThroughput(t *testing.T) {
	if !*loopback {
		t.Skip("run with -loopback")
	}
	const warmup, requests, workers, rounds = 2000, 20000, 8, 5
	defer func(q int) { queueSize = q }(queueSize)
	queueSize = 0 // production queue sizes
	defer func(k string) { daemonKind = k }(daemonKind)
	daemonKind = "daemon" // a receiver that reads like the real daemon
	vs := httpVariants()
	if *loopbackOnly != "" {
		keep := vs[:0]
		for _, v := range vs {
			if v.name == "bare" || slices.Contains(strings.Split(*loopbackOnly, ","), v.name) {
				keep = append(keep, v)
			}
		}
		vs = keep
	}
	handlers := make([]http.Handler, len(vs))
	exports := make([]*export, len(vs))
	for i, v := range vs {
		handlers[i], exports[i] = v.build(t, ordersMux())
		measure(t, handlers[i], warmup, workers) // warm up connections and pools
		exports[i].flush()
	}
	runs := make([][]run, len(vs))
	for range rounds {
		for i := range vs {
			runs[i] = append(runs[i], measure(t, handlers[i], requests, workers))
			exports[i].flush() // so no backlog is exported during the next variant
		}
	}
	var bare float64
	for i, v := range vs {
		exports[i].flush()
		dropped, lost := exports[i].check(t, warmup+rounds*requests)
		var rps []float64
		var srv, cli []float64
		for _, r := range runs[i] {
			rps = append(rps, r.rps)
			srv = append(srv, float64(r.serverCPU)/1e3)
			cli = append(cli, float64(r.clientCPU)/1e3)
		}
		med := median(rps)
		if v.name == "bare" {
			bare = med
		}
		t.Logf("%-16s %8.0f req/s  %5.1f%% of bare  server CPU %5.1f µs/req, client %5.1f  (rounds %s; dropped %.4f, lost %.4f per request)",
			v.name, med, 100*med/bare, median(srv), median(cli), roundList(rps), dropped, lost)
		// o11y must deliver every segment at the highest rate this machine
		// sustains, with production queue sizes, to a daemon stand-in that
		// reads like the real one.
		if strings.HasPrefix(v.name, "o11y-") && (dropped != 0 || lost != 0) {
			t.Errorf("%s: dropped %.4f and lost %.4f per request at %.0f req/s", v.name, dropped, lost, med)
		}
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func roundList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(parts, "/")
}
