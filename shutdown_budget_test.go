package o11y

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShutdownReturnsWithinItsBudget: the quick start gives Shutdown its own
// budget (5 s of ECS's 30 s stop timeout). Against a collector that refuses
// connections, one that accepts and never answers, and a refusing EMF agent,
// Shutdown must return because its deadline passed, not when the exporters
// give up: their own timeouts are set to an hour here, so a Shutdown that
// waited for them could not meet the bound below. The bound is generous
// (many times the budget) so that it holds on a loaded machine; what it
// separates is "at the deadline" from "an hour later".
func TestShutdownReturnsWithinItsBudget(t *testing.T) {
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer blackhole.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := blackhole.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	hour := func(k string) string {
		switch k {
		case "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_BSP_EXPORT_TIMEOUT":
			return "3600000"
		}
		return ""
	}
	const budget = 500 * time.Millisecond
	const bound = 20 * time.Second // vs. an hour of exporter timeouts
	for _, tc := range []struct{ name, protocol, endpoint string }{
		{"grpc refused", "grpc", "http://" + refusingTCPAddr(t)},
		{"http refused", "http/protobuf", "http://" + refusingTCPAddr(t)},
		{"grpc never answers", "grpc", "http://" + blackhole.Addr().String()},
		{"http never answers", "http/protobuf", "http://" + blackhole.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := &errorsSeen{}
			cfg := baseConfig(nil, seen)
			cfg.Output = &syncBuffer{}
			cfg.getenv = hour
			cfg.Traces.OTLPEndpoint, cfg.Traces.OTLPProtocol = tc.endpoint, OTLPProtocol(tc.protocol)
			cfg.Metrics.AgentEndpoint = "tcp://" + refusingTCPAddr(t)
			sdk, err := Start(context.Background(), cfg)
			require.NoError(t, err)
			for range 20 {
				_, span := sdk.Tracer().Start(context.Background(), "op")
				span.End()
			}
			sdk.Metrics().Operation("GET /x").Observe(context.Background(), time.Millisecond, 0)

			ctx, cancel := context.WithTimeout(context.Background(), budget)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- sdk.Shutdown(ctx) }()
			select {
			case err := <-done:
				require.Error(t, err, "unflushed spans must be reported")
				assert.True(t, errors.Is(err, context.DeadlineExceeded), "returned because the budget ran out: %v", err)
				assert.Contains(t, err.Error(), "traces")
			case <-time.After(bound):
				t.Fatalf("Shutdown(ctx with %v) still running after %v: it waits for the exporters, not its deadline", budget, bound)
			}
		})
	}
}
