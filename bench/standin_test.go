package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/o11y-go/o11y/internal/udpsink"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
)

// The test binary doubles as the stand-in processes: when O11Y_BENCH_STANDIN
// is set, TestMain serves instead of running tests.
const standinEnv = "O11Y_BENCH_STANDIN"

func TestMain(m *testing.M) {
	switch os.Getenv(standinEnv) {
	case "":
		os.Exit(m.Run())
	case "daemon":
		runDaemonStandin(udpsink.Options{})
	case "daemon-fast":
		// The per-request CPU benchmarks measure what a request costs the
		// service, at a rate far above what one reader of a kernel-default
		// buffer drains; there the paced sender would hold spans and the
		// benchmark's no-drop queue would grow, so they would measure
		// queueing instead. Only for them, the stand-in's buffer is
		// enlarged so it keeps up; delivery at the kernel default is what
		// the loopback test (daemonKind "daemon") and reliability/ check.
		runDaemonStandin(udpsink.Options{ReadBuffer: 8 << 20})
	case "collector":
		runCollectorStandin()
	case "loadgen":
		runLoadgen()
	case "wrkserver":
		runWrkServer()
	case "rawclient":
		runRawClient()
	default:
		fmt.Fprintln(os.Stderr, "unknown stand-in", os.Getenv(standinEnv))
		os.Exit(2)
	}
}

// runDaemonStandin reads X-Ray datagrams on a loopback UDP port and counts
// them the way the daemon reads (internal/udpsink: kernel-default receive
// buffer, one reader goroutine, a hand-off per datagram), without uploading
// anything. What its buffer drops shows as lost/op.
func runDaemonStandin(o udpsink.Options) {
	s, err := udpsink.Listen(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s\n", s.Addr())
	count := func() int64 {
		// Everything the socket holds is handled first: no quiet period.
		s.Settle(30 * time.Second)
		return s.Handled()
	}
	waitForStop(count)
	fmt.Printf("COUNT %d\n", count())
}

// rawMessage is an undecoded protobuf message.
type rawMessage []byte

// rawCodec hands the collector stand-in the request bytes undecoded: it only
// counts spans, so it skips building the request's object tree (the
// stand-in shares the machine with the benchmark).
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*rawMessage), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*rawMessage) = append((*v.(*rawMessage))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// countSpans counts the spans in an ExportTraceServiceRequest:
// resource_spans (1) → scope_spans (2) → spans (2).
func countSpans(b []byte) int64 {
	var n int64
	eachField(b, 1, func(rs []byte) {
		eachField(rs, 2, func(ss []byte) {
			eachField(ss, 2, func([]byte) { n++ })
		})
	})
	return n
}

// eachField calls fn with the bytes of every length-delimited field num.
func eachField(b []byte, num protowire.Number, fn func([]byte)) {
	for len(b) > 0 {
		f, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if f == num && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			fn(v)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(f, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
}

// runCollectorStandin serves the OTLP/gRPC trace service on loopback.
func runCollectorStandin() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var spans atomic.Int64
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req rawMessage
				if err := dec(&req); err != nil {
					return nil, err
				}
				spans.Add(countSpans(req))
				return &rawMessage{}, nil // an empty ExportTraceServiceResponse
			},
		}},
	}, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	fmt.Printf("ADDR %s\n", lis.Addr())
	waitForStop(spans.Load)
	srv.Stop()
	fmt.Printf("COUNT %d\n", spans.Load())
}

// waitForStop returns when stdin closes (the parent died or closed it) or on
// SIGTERM, so a stand-in never outlives its parent. Each "count" line on
// stdin is answered with "COUNT n". The parent asks after flushing: OTLP
// exports have been answered by then, and the daemon's count settles what
// its socket still holds.
func waitForStop(count func() int64) {
	done := make(chan struct{}, 2)
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if in.Text() == "count" {
				fmt.Printf("COUNT %d\n", count())
			}
		}
		done <- struct{}{}
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
	stdin io.WriteCloser
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

// Count returns how many datagrams (daemon) or spans (collector) the child
// has received so far, or -1 if it cannot tell.
func (s *standin) Count() int64 {
	if s == nil || s.cmd.ProcessState != nil {
		return -1
	}
	if _, err := io.WriteString(s.stdin, "count\n"); err != nil {
		return -1
	}
	for s.out.Scan() {
		if v, ok := strings.CutPrefix(s.out.Text(), "COUNT "); ok {
			var n int64 = -1
			fmt.Sscan(v, &n)
			return n
		}
	}
	return -1
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
