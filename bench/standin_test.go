package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// The test binary doubles as the stand-in processes: when O11Y_BENCH_STANDIN
// is set, TestMain serves instead of running tests.
const standinEnv = "O11Y_BENCH_STANDIN"

func TestMain(m *testing.M) {
	switch os.Getenv(standinEnv) {
	case "":
		os.Exit(m.Run())
	case "daemon":
		runDaemonStandin()
	case "collector":
		runCollectorStandin()
	case "loadgen":
		runLoadgen()
	default:
		fmt.Fprintln(os.Stderr, "unknown stand-in", os.Getenv(standinEnv))
		os.Exit(2)
	}
}

// runDaemonStandin reads X-Ray datagrams on a loopback UDP port and counts
// them, like the daemon's receive loop (without uploading anything).
func runDaemonStandin() {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = conn.SetReadBuffer(8 << 20)
	fmt.Printf("ADDR %s\n", conn.LocalAddr())
	var n atomic.Int64
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	waitForStop()
	fmt.Printf("COUNT %d\n", n.Load())
}

type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	spans atomic.Int64
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans.Add(int64(len(ss.Spans)))
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// runCollectorStandin serves the OTLP/gRPC trace service on loopback.
func runCollectorStandin() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	c := &collector{}
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	fmt.Printf("ADDR %s\n", lis.Addr())
	waitForStop()
	srv.Stop()
	fmt.Printf("COUNT %d\n", c.spans.Load())
}

// waitForStop returns when stdin closes (the parent died or closed it) or on
// SIGTERM, so a stand-in never outlives its parent.
func waitForStop() {
	done := make(chan struct{}, 2)
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				done <- struct{}{}
				return
			}
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case <-sig:
	}
}

// standin is a running child process.
type standin struct {
	Addr  string
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	out   *bufio.Scanner
}

// startStandin launches kind ("daemon" or "collector") as a child process and
// returns once it is listening.
func startStandin(tb testing.TB, kind string) *standin {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), standinEnv+"="+kind)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &standin{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	deadline := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for s.out.Scan() {
		if addr, ok := strings.CutPrefix(s.out.Text(), "ADDR "); ok {
			s.Addr = addr
			break
		}
	}
	if s.Addr == "" {
		tb.Fatalf("stand-in %s did not start", kind)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// Stop ends the child and returns how many datagrams or spans it received.
func (s *standin) Stop() int64 {
	if s.cmd.ProcessState != nil {
		return -1
	}
	_ = s.stdin.Close()
	var n int64 = -1
	for s.out.Scan() {
		if v, ok := strings.CutPrefix(s.out.Text(), "COUNT "); ok {
			fmt.Sscan(v, &n)
		}
	}
	_ = s.cmd.Wait()
	return n
}
