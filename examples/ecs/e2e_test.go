package main

import (
	"testing"

	"github.com/o11y-go/o11y/examples/internal/e2e"
)

// TestEndToEnd builds this directory's binary, runs it against a stand-in
// X-Ray daemon and an aws-xray-sdk-go downstream, drives every route, stops
// it with SIGTERM and checks segments, logs and EMF (see examples/internal/e2e).
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	e2e.RunOrders(t, e2e.Build(t, "."))
}

// TestOTLP runs the same binary with OTEL_EXPORTER_OTLP_ENDPOINT set, as the
// templates configure it, against a fake OTLP/gRPC collector.
func TestOTLP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	e2e.RunOTLP(t, e2e.Build(t, "."))
}

// TestSamplerOff checks that OTEL_TRACES_SAMPLER is honoured (always_off:
// no segments) while metrics and logs still see every request.
func TestSamplerOff(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	e2e.RunSamplerOff(t, e2e.Build(t, "."))
}

// TestSQSLeg runs this directory's binary (the checkout producer) and the
// fulfilment worker (./worker) against a fake SQS endpoint and a stand-in
// X-Ray daemon: the worker's segment continues the checkout's trace under
// the SQS SendMessage subsegment (see examples/internal/e2e.RunSQS).
func TestSQSLeg(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	e2e.RunSQS(t, e2e.Build(t, "."), e2e.Build(t, "./worker"))
}
