package orders

import (
	"bytes"
	"net"
	"testing"
)

func TestMainExitCodes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	var stderr bytes.Buffer
	if code := Main([]string{"-nope"}, &stderr); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	// Nothing listens on port 1: the probe fails.
	t.Setenv("PORT", "1")
	if code := Main([]string{"-healthcheck"}, &stderr); code != 1 {
		t.Errorf("-healthcheck with no service: exit %d, want 1", code)
	}
	// The port is taken: the service cannot start.
	t.Setenv("PORT", port)
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if code := Main(nil, &stderr); code != 1 {
		t.Errorf("port in use: exit %d, want 1", code)
	}
}
