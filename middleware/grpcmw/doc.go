// Package grpcmw instruments gRPC servers and clients: X-Ray-compatible spans
// (on OpenTelemetry), EMF request metrics and one access-log line per call,
// sharing the request id and trace id with the SDK's logs.
//
// # Server
//
// One call gives a server everything:
//
//	srv := grpc.NewServer(grpcmw.ServerOptions(sdk)...)
//
// which is the same as
//
//	grpc.NewServer(
//		grpc.StatsHandler(grpcmw.NewServerHandler(sdk)),
//		grpc.ChainUnaryInterceptor(grpcmw.UnaryServerRecovery(sdk)),
//		grpc.ChainStreamInterceptor(grpcmw.StreamServerRecovery(sdk)))
//
// The stats handler covers unary calls and all three streaming kinds. For
// every RPC it
//   - continues the caller's trace from the x-amzn-trace-id metadata (X-Ray,
//     also "Root=" only and "Sampled=?" headers) or traceparent (W3C), as the
//     SDK's propagator is configured;
//   - starts a SERVER span (an X-Ray segment) named by the full method
//     "/pkg.Service/Method", with rpc.system, rpc.service, rpc.method and, for
//     X-Ray sampling rules, url.path (the full method), http.request.method
//     (POST) and server.address (the :authority);
//   - takes the request id from x-request-id metadata when it is 1–128
//     characters of [A-Za-z0-9._:/+=@-] (the rule httpmw applies too), or
//     creates one, and puts it with the operation into the context, where the
//     SDK's logger and the client handler find it;
//   - on the end of the RPC — success, error, client cancellation, deadline,
//     connection loss — sets rpc.grpc.status_code and the message counts
//     rpc.message.sent/received, marks faults with an Error span status, ends
//     the span, records Latency, Error and Fault for Operation = full method
//     (the span name), and writes one access-log line: at the level of the
//     SDK's Config.Logs.AccessLog (O11Y_ACCESS_LOG, default Info) or
//     [WithAccessLog] on success, at least Warn for errors, Error for faults.
//
// Span names and the metrics Operation dimension come from one guard: once
// the metrics recorder holds its maximum of distinct operations (200,
// counted over gRPC, HTTP and the application's own), new ones are named
// "other" in both.
//
// gRPC delivers the end event on every termination path, so no span stays
// open and the handler starts no goroutine of its own. (The one exception,
// an unknown service or method, which grpc-go answers with Unimplemented
// without beginning the RPC, is ended when its trailer goes out; its span
// and metrics are named "UnknownMethod", since the name came off the wire.) When a caller's deadline
// passes, the server only sees a cancellation; the handler reports it as
// DeadlineExceeded when the RPC's deadline has passed.
//
// A stats handler can neither recover panics nor set response metadata; the
// recovery interceptors do both. They recover a panicking handler (the
// panic value and stack go into an "exception" span event and one ERROR log
// line, the span is a fault, the caller gets codes.Internal with the message
// "internal error") and send the response metadata: x-request-id and
// x-amzn-trace-id as httpmw answers it ("Root=<trace id>", plus ";Parent="
// and ";Sampled=1|0" when the caller sent them; "Sampled=?" asks for the
// decision). They take their options ([WithRePanic]) from the server
// handler: [ServerOptions] builds all three from one option list.
//
// # Status codes and X-Ray flags
//
// One table maps a status code to the X-Ray flags used for the span status,
// the EMF Error/Fault metrics and the access-log level (client-caused codes
// such as NotFound are errors, ResourceExhausted also a throttle, server-side
// codes such as Internal or Unavailable faults; the README lists it); the
// X-Ray exporter derives the segment's error/throttle/fault from
// rpc.grpc.status_code with the same table. A failed RPC never looks like a
// success: spans carry no HTTP status code, so nothing translates them to
// "200".
//
// # Client
//
//	conn, err := grpc.NewClient(target,
//		grpc.WithStatsHandler(grpcmw.NewClientHandler(sdk, grpcmw.WithPeerService("orders"))))
//
// Every call attempt gets a CLIENT span named after [WithPeerService] or
// else the gRPC service, with server.address/server.port and url.full
// "grpc://<authority>/pkg.Service/Method". In X-Ray it is a subsegment
// (namespace "remote") named after the peer service or else the server host
// (server.address), as for HTTP client calls;
// its context goes into the outgoing metadata (x-amzn-trace-id and
// traceparent by default), with the request id of the request being served
// (x-request-id), so the next service, gRPC or HTTP, logs the same
// request_id. Client calls record no metrics and no access log:
// the server they call does. As with any gRPC stream, a client stream whose
// context is never cancelled and which is never read to its end stays open
// in grpc-go, and so does its span.
//
// # Filtering
//
// Health checks (grpc.health.v1.Health) and server reflection
// (grpc.reflection.*) are left alone by default ([DefaultSkip]): no span,
// metrics, access log, request id or response metadata. [WithSkip] replaces
// the list; predicates compose with [Or], [And] and [Not]:
//
//	grpcmw.WithSkip(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/"))
//
// # Options
//
// The server takes options of type [Option], the client [ClientOption];
// those that apply to both ([WithSkip], [WithMessageEvents],
// [WithRequestIDHeader]) are a [SharedOption]. Passing an option where it has no effect does not
// compile. httpmw has the same vocabulary with the same meaning; the README
// tabulates the differences.
//
// # Cost
//
// Decisions that do not depend on the request are made once, in the
// constructors. An unsampled RPC builds no attributes beyond those the
// sampler sees; message events ([WithMessageEvents]) are off by default.
package grpcmw
