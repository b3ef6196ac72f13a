package console

import (
	"bytes"
	"strings"
	"testing"
)

// TestMainRunsChild runs `o11y console -- sh -c …` on free ports: the child
// sees the console's addresses in its environment, its stdout is passed
// through, and its exit code is the console's.
func TestMainRunsChild(t *testing.T) {
	script := `echo "xray=$AWS_XRAY_DAEMON_ADDRESS emf=$AWS_EMF_AGENT_ENDPOINT otlp=$OTEL_EXPORTER_OTLP_ENDPOINT proto=$OTEL_EXPORTER_OTLP_PROTOCOL"; ` +
		`echo '{"msg":"hello","xray_trace_id":"1-67000000-000000000000000000000001"}'; exit 3`
	var stdout, stderr bytes.Buffer
	code := Main([]string{"-xray", "127.0.0.1:0", "-otlp-grpc", "127.0.0.1:0", "-otlp-http", "-", "-emf", "127.0.0.1:0", "-http", "127.0.0.1:0",
		"--", "sh", "-c", script}, strings.NewReader(""), &stdout, &stderr)
	if code != 3 {
		t.Errorf("exit code %d, want the child's 3\nstderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"xray=127.0.0.1:", "emf=tcp://127.0.0.1:", "otlp=http://127.0.0.1:", "proto=grpc", `{"msg":"hello"`} {
		if !strings.Contains(out, want) {
			t.Errorf("child stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "xray=127.0.0.1:0 ") {
		t.Errorf("the child got the requested, not the bound, address:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "no authentication") || !strings.Contains(stderr.String(), "open http://127.0.0.1:") {
		t.Errorf("banner missing:\n%s", stderr.String())
	}
}

func TestMainFlags(t *testing.T) {
	for _, args := range [][]string{{"-http", "-"}, {"-traces", "0"}, {"-nope"}, {"-sampling-rules", "/does/not/exist"}} {
		var out, errb bytes.Buffer
		if code := Main(args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"-http", "256.0.0.1:99999"}, strings.NewReader(""), &out, &errb); code != 1 || !strings.Contains(errb.String(), "256.0.0.1") {
		t.Errorf("bad address: exit %d, %q", code, errb.String())
	}
}
