// Package logging is the SDK's structured logging on [log/slog]: one JSON
// object per line, carrying the ids that link a line to its X-Ray trace and
// its request, with secrets redacted and every line kept under 16 KiB.
//
// # Fields
//
// Every line written by [Handler] starts with time, level, msg and (with
// Options.AddSource) source; then, when the context holds a span, the
// correlation fields xray_trace_id (the X-Ray form the X-Ray console searches
// log groups for), trace_id, span_id and trace_sampled, and request_id when
// the middleware set one; then the static service, version and environment,
// the context attrs ([WithAttrs]) and the record's attrs, groups nested as
// objects. The README lists every field. The names are stable, and the
// correlation fields stay at top level even inside [slog.Logger.WithGroup].
// Access lines ([Handler.Access], msg "access") add the request's fields
// (empty ones omitted). Keys are not de-duplicated (as in slog.JSONHandler):
// avoid naming your own attrs after the SDK's fields.
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
// documents from interleaving. The SDK's line writer may batch lines (see
// o11y.LogsConfig.FlushInterval); [Handler.Flush] writes the batch now. String values longer than [MaxValueBytes] end
// with [TruncatedMarker]; when the line is still too long, attributes are
// dropped from the end and "truncated":true is added.
//
// # Performance
//
// The handler encodes straight into pooled buffers (append-style, no
// encoding/json for scalars) and pre-encodes WithAttrs output and the static
// fields once. Logging a record with a span in the context does not
// allocate, nor does [Handler.Access]. [FromContext] allocates the bound
// logger once per call.
package logging
