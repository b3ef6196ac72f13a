// Package size measures what the SDK costs in binary size: o11yhttp is the
// README quick start, otelhttp the same service on the OpenTelemetry SDK
// directly (otelhttp, X-Ray ids and propagator, OTLP/gRPC trace exporter).
//
//	cd bench && go test -run TestBinarySize -v ./size
package size

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// notLinked are modules the quick start must not link: it never calls
// them. aws-sdk-go v1 is past end of support; the router adapters link
// their router only when imported; grpc-go and the protobuf runtime belong
// to gRPC services, not to every service; the YAML parser to no one.
var notLinked = []string{
	"github.com/aws/aws-sdk-go",
	"github.com/aws/aws-sdk-go-v2",
	"github.com/aws/smithy-go",
	"google.golang.org/grpc",
	"google.golang.org/genproto",
	"github.com/gin-gonic/gin",
	"github.com/labstack/echo/v4",
	"github.com/gorilla/mux",
	"github.com/go-chi/chi/v5",
	"gopkg.in/yaml.v3",
	"go.yaml.in/yaml/v3",
}

// build compiles pkg the way the README measures it and returns the
// binary's path and size.
func build(t *testing.T, dir, pkg string) (string, int64) {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, stderr.String())
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	return out, fi.Size()
}

// modules lists the module paths `go version -m` finds in a binary.
func modules(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	var mods []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "dep" {
			mods = append(mods, f[1])
		}
	}
	return mods
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n) }

// TestBinarySize builds both services with the same toolchain and flags and
// requires the quick start to be no larger than the OpenTelemetry
// equivalent, and to link none of notLinked. Both sizes depend only on the
// sources and the toolchain, so the comparison is deterministic.
func TestBinarySize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	ours, oursSize := build(t, dir, "github.com/o11y-go/o11y/bench/size/o11yhttp")
	_, refSize := build(t, dir, "github.com/o11y-go/o11y/bench/size/otelhttp")
	t.Logf("go build -trimpath -ldflags='-s -w':\n  o11y quick start            %s\n  otelhttp + OTLP/gRPC (ref)  %s\n  ratio %.2f",
		mib(oursSize), mib(refSize), float64(oursSize)/float64(refSize))
	if oursSize > refSize {
		t.Errorf("the quick start (%s) is larger than the otelhttp + OTLP/gRPC equivalent (%s)", mib(oursSize), mib(refSize))
	}
	mods := modules(t, ours)
	t.Logf("modules linked by the quick start: %s", strings.Join(mods, " "))
	for _, m := range mods {
		for _, bad := range notLinked {
			if m == bad {
				t.Errorf("the quick start links %s", m)
			}
		}
	}
}

// TestQuickStartIsREADME keeps o11yhttp identical to the README's quick start,
// so the binary-size comparison measures what users copy.
func TestQuickStartIsREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Quick start (net/http)")
	if i < 0 {
		t.Fatal(`README has no "## Quick start (net/http)" section`)
	}
	j := strings.Index(s[i:], "```go\n")
	if j < 0 {
		t.Fatal("the quick start has no Go block")
	}
	block := s[i+j+len("```go\n"):]
	block = block[:strings.Index(block, "```")]
	main, err := os.ReadFile(filepath.Join("o11yhttp", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	// main.go = two comment lines naming the command, then the README block.
	parts := strings.SplitN(string(main), "\n", 3)
	if len(parts) != 3 || parts[2] != block {
		t.Errorf("bench/size/o11yhttp/main.go differs from the README quick start; copy the README block below its two comment lines")
	}
}
