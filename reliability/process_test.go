package reliability

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The examples' own end-to-end helpers live under examples/internal and
// cannot be imported from here, so this file has a small process runner.

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	buildBin  string
	buildErr  error
	buildLog  []byte
)

// buildOrders compiles the examples' orders service (examples/ecs) once per
// test binary run.
func buildOrders(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reliability-orders-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		buildBin = filepath.Join(dir, "orders")
		cmd := exec.Command(goBin, "build", "-o", buildBin, "./examples/ecs")
		cmd.Dir = ".." // module root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./examples/ecs: %v\n%s", buildErr, buildLog)
	}
	return buildBin
}

// proc is a running child process with captured output.
type proc struct {
	cmd     *exec.Cmd
	baseURL string
	stdout  *lineBuf
	stderr  *lineBuf
	exited  chan struct{}
	err     error
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// startProc runs bin with a clean telemetry environment plus env and waits
// for /healthz.
func startProc(t testing.TB, bin string, env map[string]string) *proc {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "O11Y_") ||
			strings.HasPrefix(k, "ECS_") || k == "PORT" || k == "DOWNSTREAM_URL" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "PORT="+port)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, baseURL: "http://127.0.0.1:" + port, stdout: &lineBuf{}, stderr: &lineBuf{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(p.baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.CloseIdleConnections()
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("service exited during start-up: %v\nstdout:\n%s\nstderr:\n%s", p.err, p.stdout.Bytes(), p.stderr.Bytes())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not become healthy\nstderr:\n%s", p.stderr.Bytes())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits up to timeout for the exit and returns the exit code (-1 on
// timeout, after killing the process) and how long it took.
func (p *proc) wait(timeout time.Duration) (int, time.Duration) {
	start := time.Now()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return -1, time.Since(start)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}
