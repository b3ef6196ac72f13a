package reliability

import (
	"github.com/o11y-go/o11y/internal/testproc"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
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
		buildBin = filepath.Join(dir, "orders")
		cmd := exec.Command("go", "build", "-o", buildBin, "./ecs")
		cmd.Dir = "../examples" // the examples' own module (works with GOWORK=off too)
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
	*testproc.Process
	stdout *lineBuf
	stderr *lineBuf
}

// startProc runs bin with a clean telemetry environment plus env and waits
// for /healthz.
func startProc(t testing.TB, bin string, env map[string]string) *proc {
	t.Helper()
	p := &proc{stdout: &lineBuf{}, stderr: &lineBuf{}}
	p.Process = testproc.Start(t, bin, env, "/healthz", p.stdout, p.stderr)
	return p
}
