// Package httpmw instruments net/http servers and clients: one request gives
// one span (an X-Ray segment or subsegment), one metrics observation and one
// access line, sharing the trace id and the request id. The README lists
// what is recorded, the outcome flags and what httpmw and grpcmw share.
//
// [New] returns a func(http.Handler) http.Handler for anything built on
// http.Handler; wrap the whole router:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	http.ListenAndServe(":8080", httpmw.New(sdk)(mux))
//
// Spans and the metrics Operation are named "<METHOD> <route>" after the
// route template, never the raw path: ServeMux's pattern by default; chi
// and gorilla/mux through [WithRoute] with chiroute.Route or muxroute.Route;
// gin and echo through ginroute.Middleware or echoroute.Middleware
// registered first. Only the sub-package you import links its router. A
// request no route matched is "<METHOD> [UnknownRoute]".
//
// The SERVER span starts without attributes (the X-Ray sampler gets the
// method, path, host and scheme its rules match on from the request state,
// so a SpanProcessor's OnStart sees none) and ends with all of them at once:
// http.request.method, url.path, server.address, url.scheme, http.route,
// http.response.status_code, user_agent.original, client.address,
// network.peer.address, body sizes and http.request.id.
// Metrics are recorded whether or not the trace is sampled. A recovered
// panic is an "exception" span event and a 500 fault;
// http.ErrAbortHandler is re-raised and not counted.
//
// Options tune the server: [WithSkip] replaces [DefaultSkip] (health checks)
// with predicates built from [Path], [PathPrefix], [UserAgentPrefix],
// [Method], [Or], [And] and [Not]; [WithAccessLog] sets the access line's
// level; [WithRePanic] re-raises a recovered panic after recording it. The
// handler's writer keeps Flush, Hijack, ReadFrom and
// [http.ResponseController] working.
//
// [Client] and [Transport] give outgoing calls a CLIENT span (named after
// the host or [WithPeerService]) and forward the trace context and the
// request id being served, so the next service logs the same request_id:
//
//	client := httpmw.Client(sdk, nil, httpmw.WithPeerService("inventory"))
//	resp, err := client.Do(req.WithContext(ctx))
//
// The server takes [Option]s, the client [ClientOption]s, both a
// [SharedOption]; an option passed where it has no effect does not compile.
// grpcmw uses the same vocabulary with the same meaning.
package httpmw
