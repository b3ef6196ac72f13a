// Package testproc runs a service binary as a child process for end-to-end
// tests: a free loopback port, an environment scrubbed of the test's own
// telemetry settings, captured output, a wait for its health endpoint, and
// a kill in t.Cleanup so no child outlives its test.
package testproc

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Output is where a child's stdout or stderr goes; Bytes is used to show it
// when start-up fails.
type Output interface {
	io.Writer
	Bytes() []byte
}

// Process is a running child.
type Process struct {
	Cmd     *exec.Cmd
	BaseURL string // http://127.0.0.1:<PORT>
	exited  chan struct{}
	err     error
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// scrubbed reports whether an inherited variable must not reach the child:
// the test machine's own telemetry settings would change what it emits.
func scrubbed(k string) bool {
	return strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "O11Y_") ||
		strings.HasPrefix(k, "ECS_") || k == "PORT" || k == "DOWNSTREAM_URL"
}

// Start runs bin with PORT set to a free port, the scrubbed environment plus
// env, and output to stdout and stderr, then waits (up to 20 s) until
// GET healthPath answers 200. It fails the test if the child exits or never
// becomes healthy.
func Start(t testing.TB, bin string, env map[string]string, healthPath string, stdout, stderr Output) *Process {
	t.Helper()
	port := FreePort(t)
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !scrubbed(k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PORT="+port)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	p := &Process{Cmd: cmd, BaseURL: "http://127.0.0.1:" + port, exited: make(chan struct{})}
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
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(p.BaseURL + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("service exited during start-up: %v\nstdout:\n%s\nstderr:\n%s", p.err, stdout.Bytes(), stderr.Bytes())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not become healthy\nstdout:\n%s\nstderr:\n%s", stdout.Bytes(), stderr.Bytes())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Signal sends sig to the child.
func (p *Process) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// Wait waits up to timeout for the child to exit and returns its exit code
// (-1 on timeout, after killing it) and how long the wait took.
func (p *Process) Wait(timeout time.Duration) (int, time.Duration) {
	start := time.Now()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = p.Cmd.Process.Kill()
		<-p.exited
		return -1, time.Since(start)
	}
	return p.Cmd.ProcessState.ExitCode(), time.Since(start)
}
