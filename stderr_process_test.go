package o11y

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelperStartFromEnv is the child process of TestStderrIsOneJSONLinePerProblem:
// a program that starts the SDK from its environment and ignores Start's
// error, as the quick start does.
func TestHelperStartFromEnv(t *testing.T) {
	if os.Getenv("O11Y_TEST_HELPER") != "1" {
		t.Skip("child process of TestStderrIsOneJSONLinePerProblem")
	}
	sdk, _ := Start(context.Background(), ConfigFromEnv())
	ctx, span := sdk.Tracer().Start(context.Background(), "op")
	sdk.Logger().InfoContext(ctx, "hello")
	span.End()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sdk.Shutdown(sctx)
	os.Exit(0)
}

// TestStderrIsOneJSONLinePerProblem runs a real process with bad values
// (the first use of the OpenTelemetry SDK's own environment parsing happens
// in it, as in production) and reads its stderr: one JSON line per
// problem, naming the variable, and nothing in plain text.
func TestStderrIsOneJSONLinePerProblem(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	tests := []struct {
		name string
		env  []string
		want []string // variables reported, once each
	}{
		{"bad values", []string{
			"AWS_XRAY_DAEMON_ADDRESS=garbage",
			"OTEL_TRACES_SAMPLER=nonsense",
			"OTEL_RESOURCE_ATTRIBUTES=team=payments,broken,tier=%zz",
			"O11Y_METRICS_FLUSH_INTERVAL=-5",
		}, []string{"AWS_XRAY_DAEMON_ADDRESS", "OTEL_TRACES_SAMPLER", "OTEL_RESOURCE_ATTRIBUTES", "O11Y_METRICS_FLUSH_INTERVAL"}},
		{"our own sampler name is not the OTel SDK's problem", []string{"OTEL_TRACES_SAMPLER=xray"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartFromEnv$")
			cmd.Env = append(os.Environ(), "O11Y_TEST_HELPER=1", "O11Y_RESOURCE_DETECTION=false",
				"OTEL_TRACES_EXPORTER=none") // no daemon needed: only configuration is reported
			cmd.Env = append(cmd.Env, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr, cmd.Stdout = &stderr, io.Discard
			require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

			var got []string
			sc := bufio.NewScanner(&stderr)
			for sc.Scan() {
				var line struct {
					Logger, Level, Msg, Variable, Fallback string
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "a plain-text line on stderr: %q", sc.Text())
				assert.Equal(t, "o11y", line.Logger)
				assert.NotEmpty(t, line.Variable, "a configuration problem: %s", sc.Text())
				assert.NotEmpty(t, line.Fallback, sc.Text())
				got = append(got, line.Variable)
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}
