// Package httpmw instruments net/http servers and clients: one request gives
// one span (an X-Ray segment or subsegment), one metrics observation and one
// access log line, all sharing the trace id and the request id.
//
// # Server
//
// [New] returns a func(http.Handler) http.Handler that works with
// net/http, chi, gorilla/mux and anything else built on http.Handler:
//
//	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv())
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	http.ListenAndServe(":8080", httpmw.New(sdk)(mux))
//
// For each request that the skip list does not match, the middleware
//
//   - extracts X-Amzn-Trace-Id / traceparent and starts a SERVER span with
//     http.request.method, url.path, server.address and url.scheme, so the
//     sampler sees them;
//   - accepts a valid incoming X-Request-Id (1–128 of [A-Za-z0-9._:/+=@-],
//     the rule grpcmw applies too) or generates one, returns it in the
//     response, and stores it (with the per-request debug-log decision) in
//     the request state that logs and metrics read;
//   - answers with X-Amzn-Trace-Id: Root=<trace id>, plus ;Parent= when the
//     caller sent one and ;Sampled= when the caller sent Sampled (Sampled=?
//     is how a caller asks for the decision);
//   - after the handler, names the span "<METHOD> <route>", sets
//     http.route, http.response.status_code, user_agent.original,
//     client.address (the first X-Forwarded-For entry when it is an IP
//     address, else the peer),
//     network.peer.address, body sizes and http.request.id, and marks 5xx
//     as span status Error;
//   - records Latency/Error/Fault for the operation (the span name) whether
//     or not the trace is sampled, and writes one access line: at the level
//     of the SDK's Config.Logs.AccessLog (O11Y_ACCESS_LOG, default Info) or
//     [WithAccessLog] on success, at least Warn for 4xx, Error for 5xx.
//
// The query string, Authorization, Cookie and other headers are never
// recorded.
//
// # Routes
//
// Span names and the metrics Operation dimension use the route template,
// never the raw path. By default it is the path part of the ServeMux
// pattern (r.Pattern, "GET /orders/{id}" → "/orders/{id}"). Other routers
// plug in through sub-packages, so only their users link the router:
// chiroute.Route and muxroute.Route with [WithRoute] (middleware installed
// with the router's Use); ginroute.Middleware and echoroute.Middleware,
// registered first in gin or echo, fill r.Pattern for an httpmw wrapping
// the whole engine. A request no
// route matched is named "<METHOD> unknown_route" ([UnknownRoute]); methods
// outside the standard set become "_OTHER". Span names and the metrics
// Operation dimension come from one guard: once the metrics recorder holds
// its maximum of distinct operations (200, counted over HTTP, gRPC and the
// application's own), new ones are named "other" in both.
//
// # Outcomes
//
// 4xx sets the Error flag, 429 also Throttle, 5xx Fault. A handler panic is
// recovered, recorded as an "exception" span event with the stack, counted
// as a 500 fault and answered with 500 if nothing was written yet; with
// [WithRePanic] it is re-raised after recording. http.ErrAbortHandler is
// always re-raised and not counted as a fault.
//
// # Skip list
//
// [DefaultSkip] matches /healthz, /health, /ping, /readyz, /livez and the
// ELB-HealthChecker user agent: no span, no metrics, no access line, no
// request id or response header. [WithSkip] replaces it with predicates
// composed from [Path], [PathPrefix], [UserAgentPrefix], [Method], [Or],
// [And] and [Not].
//
// # Options
//
// The server takes options of type [Option], the client [ClientOption]; the
// few that apply to both ([WithRequestIDHeader]) are a [SharedOption].
// Passing an option where it has no effect does not compile. grpcmw has the same
// vocabulary with the same meaning; the README tabulates the differences.
//
// # Response writer
//
// The handler receives one wrapper type that records status and size and
// implements Flush, Hijack, ReadFrom and Unwrap, so server-sent events,
// websocket upgrades, sendfile and [http.ResponseController] work through
// the middleware.
//
// # Client
//
// [Transport] wraps an http.RoundTripper: a CLIENT span named after the
// host (or [WithPeerService]) with url.full (no query, no user info),
// server.address, server.port and the response status; X-Amzn-Trace-Id,
// traceparent and the request id of the request being served (X-Request-Id)
// are injected into a clone of the request, so the next service, HTTP or
// gRPC, logs the same request_id. The span ends when the body is read to
// EOF or closed.
//
// # Cost
//
// Beyond the OpenTelemetry SDK's span, the middleware allocates one struct
// per request holding the request state, the writer wrapper and the header
// values; attribute buffers are pooled; span names and metric handles are
// built once per route. TestAllocationBudget pins the budget; the figures
// are in docs/BENCHMARKS.md.
package httpmw
