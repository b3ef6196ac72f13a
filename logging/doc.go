// Package logging is the SDK's structured logging on [log/slog]: one JSON
// object per line, carrying the ids that link a line to its X-Ray trace and
// its request, with secrets redacted and every line kept under 16 KiB.
//
// # Fields
//
// Every line written by [Handler] has these top-level fields, in this order.
// The names are stable; the correlation fields stay at top level even inside
// [slog.Logger.WithGroup].
//
//	field          | when                         | value
//	---------------+------------------------------+--------------------------------------------------
//	time           | record time is not zero      | RFC 3339, UTC, milliseconds: 2026-11-25T17:40:05.123Z
//	level          | always                       | DEBUG, INFO, WARN, ERROR (or e.g. INFO+2)
//	msg            | always                       | the message (cut at 8 KiB)
//	source         | Options.AddSource            | {"function","file","line"}
//	xray_trace_id  | ctx has a span               | X-Ray form 1-5f84c7a1-2b3c4d5e6f708192a3b4c5d6: the
//	               |                              | literal the X-Ray console searches log groups for
//	trace_id       | ctx has a span               | 32 lowercase hex (W3C / OpenTelemetry form)
//	span_id        | ctx has a span               | 16 lowercase hex (= X-Ray segment/subsegment id)
//	trace_sampled  | ctx has a span               | true when the trace is recorded (exported to X-Ray)
//	request_id     | ctx has a request id         | the middleware's validated X-Request-Id
//	service        | Options.Service != ""        | static, encoded once
//	version        | Options.Version != ""        | static, encoded once
//	environment    | Options.Environment != ""    | static, encoded once
//	(ctx attrs)    | WithAttrs on the ctx         | request-scoped attributes
//	(attrs)        | With / record attrs          | groups nest as objects
//	truncated      | attrs were dropped           | true
//
// Access lines ([Handler.Access], msg "access") add protocol, method, route,
// path, status, grpc_code, duration_ms, bytes_in, bytes_out, user_agent,
// client_ip and peer (empty ones omitted). Keys are not de-duplicated (as in
// slog.JSONHandler): avoid naming your own attrs after the fields above.
//
// Values: strings are escaped (invalid UTF-8 becomes U+FFFD, control
// characters are \u-escaped, U+2028/9 too), durations are integer
// nanoseconds, times in attrs are RFC 3339 with nanoseconds, NaN and ±Inf are
// null, errors are their message, other values go through encoding/json.
//
// # Correlation and context
//
// The ids come from the context given to the …Context logging methods. Use
// [FromContext] to get a logger bound to the request's context, so that
// log.Info(…) without a context still carries them. [WithAttrs] adds
// request-scoped attributes (tenant, user id) once; every later line logged
// with that context shows them. [NewContext] stores a logger (for example one
// the middleware enriched) for FromContext to return. The root package
// registers the SDK's handler with [SetDefaultHandler].
//
// [Wrap] adds the same fields to any other slog.Handler (slog.TextHandler, a
// vendor handler), so a team can keep its own format.
//
// # Redaction
//
// Attributes whose key matches Options.RedactKeys (default
// [DefaultRedactKeys]: authorization, cookie, set-cookie, password, secret,
// token, api_key, …) have their value replaced by "[REDACTED]" at any depth:
// in groups, in WithAttrs, in context attrs and in groups returned by a
// LogValuer. Matching ignores case, '-' and '_'. A LogValuer under a redacted
// key is never called. Values of other kinds (maps inside an Any) are not
// searched.
//
// # Debug sampling
//
// Like Powertools' log sampling, a share of requests (Options.DebugSampleRate)
// logs at Debug level whatever Options.Level says. The middleware calls
// [Handler.SampleDebug] once per request and stores the result in the request
// state; Enabled reads it, so the decision is stable for the whole request.
//
// # Size and output
//
// Every line is one JSON object shorter than [MaxLineBytes] (16 KiB), written
// with one Write call, so a shared *linewriter.Writer keeps log lines and EMF
// documents from interleaving. String values longer than [MaxValueBytes] end
// with [TruncatedMarker]; when the line is still too long, attributes are
// dropped from the end and "truncated":true is added.
//
// # Performance
//
// The handler encodes straight into pooled buffers (append-style, no
// encoding/json for scalars) and pre-encodes WithAttrs output and the static
// fields once. Logging a record with a span in the context costs 0
// allocations; [Handler.Access] costs 0 allocations. [FromContext] allocates
// the bound logger once per call.
package logging
