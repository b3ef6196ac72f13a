// Package logging is the SDK's structured logging on [log/slog]: one JSON
// object per line, carrying the ids that link it to its X-Ray trace and its
// request, with secrets redacted and every line under 16 KiB. The README
// lists the fields.
//
// The root package builds the [Handler] (sdk.Logger(), sdk.LogHandler()).
// The ids come from the context, so log with the …Context methods, or take
// a logger bound to the request's context once:
//
//	log := logging.FromContext(ctx)
//	log.Info("order read", "order_id", id) // xray_trace_id, trace_id, span_id, request_id
//
// [WithAttrs] adds request-scoped attributes (tenant, user id) to every
// later line logged with the returned context; [NewContext] stores a logger
// for FromContext to return. [Wrap] adds the same correlation fields to any
// other slog.Handler, to keep your own format. The correlation fields stay
// at top level even inside WithGroup; keys are not de-duplicated, so do not
// name your attributes after them.
//
// Values under a key in Options.RedactKeys ([DefaultRedactKeys] by default;
// case, '-' and '_' ignored) become "[REDACTED]" at any depth, and a
// LogValuer under such a key is never called. Options.DebugSampleRate logs
// Debug lines for that share of requests whatever the Level: the middleware
// decides once per request with [Handler.SampleDebug].
//
// Each line is written with one Write call and stays under [MaxLineBytes]:
// values longer than [MaxValueBytes] end with [TruncatedMarker], then
// attributes are dropped from the end and "truncated":true is added.
// [Handler.Access] writes the middleware's access lines without
// allocating. The SDK's line writer may batch lines
// (o11y.LogsConfig.FlushInterval); [Handler.Flush] writes the batch now.
package logging
