// Package bench compares the per-request cost of o11y's middleware with the
// alternatives a Go team on AWS would otherwise use, in one run on one machine:
//
//   - bare net/http (and bare gRPC);
//   - otelhttp/otelgrpc + the OpenTelemetry SDK with X-Ray ids and propagator,
//     exporting OTLP/gRPC to a collector stand-in;
//   - aws-xray-sdk-go's xray.Handler / interceptors with its UDP emitter to a
//     daemon stand-in;
//   - o11y with all three signals (segments to the daemon stand-in, EMF
//     aggregated, access log to a pipe another process drains, as a
//     container's stdout), and o11y exporting OTLP.
//
// The stand-ins run in child processes (this test binary re-executed), so
// their work is not counted. In the loopback test the daemon stand-in reads
// like the real daemon (internal/udpsink: kernel-default receive buffer, one
// reader goroutine, a hand-off per datagram), so a sender that overruns it
// shows as lost/op. The per-request benchmarks measure CPU per request at a
// rate far above what such a reader drains, so their stand-in has an
// enlarged buffer and keeps up ("daemon-fast", see TestMain);
// BenchmarkPacerCost compares the paced and unpaced sender against it.
// Export work is counted: each benchmark flushes its
// exporter inside the timed region (b.Loop stops the timer when it ends, so
// the flush restarts it). Span queues are sized to hold a whole run, so no
// variant skips export work by dropping spans; every row reports drops/op
// (the SDK's own counter, o11y only) and lost/op (spans or segments the
// stand-in did not receive), which should be 0.
//
// Besides ns/op (wall time), every row reports cpu-ns/op: the process's CPU
// time per request over the loop and the flush, all threads (request path,
// exporter goroutines, garbage collector; not the stand-ins). On two cores
// background work partly hides in wall time; CPU time charges it.
//
// BenchmarkGRPCServerHandler drives each variant's gRPC stats handler and
// unary interceptor in process with the events grpc-go delivers for one RPC:
// over loopback TCP (BenchmarkGRPCUnary) the instrumentation is a small part
// of a round trip whose scheduling noise is larger than the difference.
//
// It is its own module so the comparison-only dependencies (otelhttp,
// otelgrpc) never reach o11y's users.
//
// Reproduce the per-request tables in docs/BENCHMARKS.md with a fresh
// process per measurement, the variants interleaved:
//
//	bench/perreq.sh              # BenchmarkHTTPServer
//	bench/perreq.sh grpc 6 40000 # BenchmarkGRPCServerHandler
//
// (in one process, `go test -bench . -benchmem -count 5`, one variant's
// garbage and stand-in backlog carry over into the next), and the
// loopback throughput comparison with:
//
//	bench/wrk.sh
//
// TestWrkLoopback (wrk_test.go) runs every party in its own process: one
// server process per variant (this test binary re-executed, production
// queue sizes, o11y with traces, EMF and access lines on a stdout pipe the
// harness drains as a log driver would), its receiver stand-in (the
// daemon-like UDP reader or the OTLP collector) and wrk with keep-alive
// connections and a sampled X-Amzn-Trace-Id. Variants are interleaved over
// rounds (the order rotates), and each reports req/s, server, receiver and
// client CPU per request from /proc and rusage, p50/p99 latency and spans
// received against requests served. Without -wrk it is a few-second smoke
// run that checks counts only. bench/wrk.sh installs wrk when missing;
// its flags are -wrk.rounds, -wrk.duration, -wrk.conns, -wrk.variants
// (o11y-daemon-unpaced shows what an unpaced sender loses), -wrk.pipeline=N
// (wrk writes N requests at once per connection) and -wrk.client=go (a Go
// client of wrk's class instead of wrk).
//
// The older TestLoopbackThroughput (-loopback) serves in the test process
// and drives it with a Go net/http client whose own CPU per request is
// several times wrk's, which flatters every instrumented variant against
// bare; it is kept for comparison with earlier figures.
package bench
