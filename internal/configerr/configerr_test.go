package configerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{New("AWS_XRAY_DAEMON_ADDRESS", "garbage", "not host:port", "127.0.0.1:2000"),
			`o11y: config: AWS_XRAY_DAEMON_ADDRESS="garbage": not host:port; using 127.0.0.1:2000`},
		{&Error{Name: "OTEL_EXPORTER_OTLP_HEADERS", Value: "api-key=s3cret", Secret: true, Problem: "malformed entry", Fallback: "no headers"},
			`o11y: config: OTEL_EXPORTER_OTLP_HEADERS="[REDACTED]": malformed entry; using no headers`},
		{New("X", "a\"b\n", "bad", ""), `o11y: config: X="a\"b\n": bad`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	long := New("X", strings.Repeat("v", 1000), "bad", "d").Error()
	if len(long) > 200 {
		t.Errorf("long value not cut: %d bytes", len(long))
	}
	var ce *Error
	if !errors.As(fmt.Errorf("wrapped: %w", New("X", "v", "p", "f")), &ce) || ce.Name != "X" {
		t.Error("errors.As does not find a wrapped *Error")
	}
}
