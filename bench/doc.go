// Package bench compares the per-request cost of o11y's middleware with the
// alternatives a Go team on AWS would otherwise use, in one run on one machine:
//
//   - bare net/http (and bare gRPC);
//   - otelhttp/otelgrpc + the OpenTelemetry SDK with X-Ray ids and propagator,
//     exporting OTLP/gRPC to a collector stand-in;
//   - aws-xray-sdk-go's xray.Handler / interceptors with its UDP emitter to a
//     daemon stand-in;
//   - o11y with all three signals (segments to the daemon stand-in, EMF
//     aggregated, access log to io.Discard), and o11y exporting OTLP.
//
// The stand-ins run in child processes (this test binary re-executed), so
// their work is not counted, while export work is: each benchmark flushes its
// exporter inside the timed region.
//
// It is its own module so the comparison-only dependencies (otelhttp,
// otelgrpc) never reach o11y's users.
//
// Reproduce the README table with:
//
//	cd bench && go test -run '^$' -bench . -benchmem -count 1
//
// and the loopback throughput comparison with:
//
//	cd bench && go test -run TestLoopbackThroughput -v -loopback
package bench
