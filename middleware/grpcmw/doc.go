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
//     characters of [A-Za-z0-9._:/+=@-], or creates one, and puts it with the
//     operation into the context, where the SDK's logger finds it;
//   - on the end of the RPC — success, error, client cancellation, deadline,
//     connection loss — sets rpc.grpc.status_code and the message counts
//     rpc.message.sent/received, marks faults with an Error span status, ends
//     the span, records Latency, Error and Fault for Operation = full method,
//     and writes one access-log line (INFO, WARN for errors, ERROR for faults).
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
// "internal error") and send the x-amzn-trace-id response metadata the way
// aws-xray-sdk-go does on gRPC ("Root=<trace id>", plus ";Sampled=1|0" only
// when the caller sent "Sampled=?") and x-request-id.
//
// # Status codes and X-Ray flags
//
// [CodeFlags] maps a status code to the X-Ray flags used for the span status,
// the EMF Error/Fault metrics and the access-log level; the X-Ray exporter
// derives the segment's error/throttle/fault from rpc.grpc.status_code with
// the same table. A failed RPC never looks like a success: spans carry no
// HTTP status code, so nothing translates them to "200".
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
// traceparent by default). Client calls record no metrics and no access log:
// the server they call does. As with any gRPC stream, a client stream whose
// context is never cancelled and which is never read to its end stays open
// in grpc-go, and so does its span.
//
// # Filtering
//
// Health checks (grpc.health.v1.Health) and server reflection
// (grpc.reflection.*) get no span, metrics or access log by default
// ([DefaultSkip]). [WithSkip] replaces the predicate; predicates compose:
//
//	grpcmw.WithSkip(grpcmw.Any(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/")))
//
// # Cost
//
// Decisions that do not depend on the request are made once, in the
// constructors. An unsampled RPC builds no attributes beyond those the
// sampler sees; message events ([WithMessageEvents]) are off by default.
package grpcmw
