// Package grpcmw instruments gRPC servers and clients: one RPC gives one
// span (an X-Ray segment or subsegment), one metrics observation and one
// access line, sharing the trace id and the request id. The README lists
// what is recorded, the status-code table and what grpcmw and httpmw share.
//
// [ServerOptions] gives a server everything: a stats handler
// ([NewServerHandler]) that covers unary calls and every streaming kind,
// and recovery interceptors ([UnaryServerRecovery], [StreamServerRecovery])
// that recover panics and send the x-request-id and x-amzn-trace-id
// response metadata, which a stats handler cannot do. The interceptors
// follow the handler's options, so pass them once:
//
//	srv := grpc.NewServer(grpcmw.ServerOptions(sdk)...)
//
// Spans and the metrics Operation are named after the full method
// "/pkg.Service/Method" ("UnknownMethod" for one grpc-go rejected before it
// began). The SERVER span starts without attributes (the X-Ray sampler gets
// url.path = the full method, http.request.method POST, server.address =
// :authority and the rpc.* keys from the request state) and ends, carrying
// them all, on every termination path (success, error, cancellation,
// deadline, lost connection) with rpc.grpc.status_code and the message
// counts; the handler starts no goroutine. A deadline the caller set and
// that passed is reported as DeadlineExceeded, not as the cancellation the
// server sees.
//
// [NewClientHandler] gives each call attempt a CLIENT span (named after
// [WithPeerService] or the gRPC service) and forwards the trace context and
// the request id being served in the outgoing metadata, so the next
// service logs the same request_id. Clients record no metrics and no access
// line: the server they call does.
//
//	conn, err := grpc.NewClient(target,
//		grpc.WithStatsHandler(grpcmw.NewClientHandler(sdk, grpcmw.WithPeerService("orders"))))
//
// [WithSkip] replaces [DefaultSkip] (health checks, reflection) with
// predicates built from [Method], [MethodPrefix], [Or], [And] and [Not];
// [WithAccessLog] sets the access line's level; [WithMessageEvents] adds a
// span event per message. The server takes [Option]s, the client
// [ClientOption]s, both a [SharedOption]; an option passed where it has no
// effect does not compile. httpmw uses the same vocabulary with the same
// meaning.
package grpcmw
