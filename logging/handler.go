package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/linewriter"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/xrayid"
)

// Field names written by [Handler] (documented in one table in doc.go).
const (
	KeyTime         = "time"
	KeyLevel        = "level"
	KeyMessage      = "msg"
	KeySource       = "source"
	KeyXRayTraceID  = "xray_trace_id"
	KeyTraceID      = "trace_id"
	KeySpanID       = "span_id"
	KeyTraceSampled = "trace_sampled"
	KeyRequestID    = "request_id"
	KeyService      = "service"
	KeyVersion      = "version"
	KeyEnvironment  = "environment"
	KeyTruncated    = "truncated"
)

// Handler is the SDK's [slog.Handler]: one JSON object per line, correlation
// fields from the context at top level, redaction, size limits, and the
// per-request debug-log sampling decision. Create it with [NewHandler]; a nil
// *Handler discards everything.
//
// Handler is immutable; WithAttrs and WithGroup return new handlers sharing
// the writer and configuration. Safe for concurrent use.
type Handler struct {
	c *config
	// pre holds the attrs given to WithAttrs, encoded once, inside the groups
	// that were open at the time (opened of them).
	pre      []byte
	groups   []string
	opened   int
	preTrunc bool // WithAttrs dropped attrs to stay within maxPreBytes
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler writing one line per record to w with one
// Write call per line. Pass the SDK's shared *linewriter.Writer so lines never
// interleave with EMF documents; any io.Writer works.
func NewHandler(w io.Writer, opts *Options) *Handler {
	return &Handler{c: newConfig(w, opts)}
}

// SampleDebug decides, once per request, whether its Debug records are kept
// (Options.DebugSampleRate is the share of true results). The middleware
// stores the result in the request state; Enabled honours it. Lock-free.
func (h *Handler) SampleDebug() bool {
	if h == nil || h.c == nil {
		return false
	}
	return sample(h.c.sampleRate)
}

func sample(rate float64) bool {
	switch {
	case !(rate > 0): // also NaN
		return false
	case rate >= 1:
		return true
	}
	return rand.Float64() < rate // runtime-seeded, per-thread state: no lock
}

// Enabled reports whether level is at least Options.Level, or at least Debug
// when ctx's request was sampled for debug logs.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	if h == nil || h.c == nil {
		return false
	}
	if level >= h.c.level.Level() {
		return true
	}
	return level >= slog.LevelDebug && debugSampled(ctx)
}

func debugSampled(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	st := reqstate.From(ctx)
	return st != nil && st.DebugLogs
}

// WithAttrs returns a handler whose lines carry attrs (encoded once, here,
// inside the currently open groups).
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h == nil || h.c == nil || len(attrs) == 0 {
		return h
	}
	h2 := *h
	pre := make([]byte, len(h.pre), len(h.pre)+64*len(attrs))
	copy(pre, h.pre)
	for _, g := range h.groups[h.opened:] {
		pre = appendKey(pre, g)
		pre = append(pre, '{')
	}
	body := len(pre)
	for _, a := range attrs {
		m := len(pre)
		pre = h.c.appendAttr(pre, a, 0)
		if len(pre) > maxPreBytes {
			pre = pre[:m]
			h2.preTrunc = true
			break
		}
	}
	if len(pre) == body { // nothing written: keep the groups unopened
		if !h2.preTrunc {
			return h
		}
		h2.pre = h.pre
		return &h2
	}
	h2.pre = pre
	h2.opened = len(h.groups)
	return &h2
}

// WithGroup returns a handler that nests later attrs (from WithAttrs and the
// record) under name. The correlation fields stay at top level.
func (h *Handler) WithGroup(name string) slog.Handler {
	if h == nil || h.c == nil || name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	return &h2
}

// Handle writes r as one JSON line. It returns the writer's error, if any.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h == nil || h.c == nil {
		return nil
	}
	c := h.c
	var src *slog.Source
	if c.addSource {
		src = r.Source()
	}
	bp := getBuf()
	buf := c.appendHeader((*bp)[:0], ctx, r.Time, r.Level, r.Message, src, "")
	base := len(buf)

	// Room kept for closing every group, the truncated flag and "}\n".
	reserve := len(h.groups) + len(`,"truncated":true}`) + 1
	limit := MaxLineBytes - 1 - reserve
	truncated := h.preTrunc

	// Context attrs may use what WithAttrs' attrs and the groups leave.
	ctxLimit := limit - len(h.pre) - (maxKeyBytes+2)*(len(h.groups)-h.opened)
	buf, truncated = c.appendCtxAttrs(buf, ctx, ctxLimit, truncated)

	buf = append(buf, h.pre...)
	lazy := len(buf) // where the groups not yet opened by WithAttrs start
	for _, g := range h.groups[h.opened:] {
		buf = appendKey(buf, g)
		buf = append(buf, '{')
	}
	body := len(buf)
	closeN := 0
	if len(buf) > limit || base > limit {
		// Pathological group names or context attrs: keep the header only.
		buf = buf[:min(base, len(buf))]
		truncated = true
	} else {
		r.Attrs(func(a slog.Attr) bool {
			m := len(buf)
			buf = c.appendAttr(buf, a, 0)
			if len(buf) > limit {
				buf = buf[:m] // drop this attr and every later one
				truncated = true
				return false
			}
			return true
		})
		if len(buf) == body {
			buf = buf[:lazy] // groups with nothing in them are not written
			closeN = h.opened
		} else {
			closeN = len(h.groups)
		}
	}
	for range closeN {
		buf = append(buf, '}')
	}
	if truncated {
		buf = append(buf, `,"`+KeyTruncated+`":true`...)
	}
	buf = append(buf, '}', '\n')
	err := c.write(buf, truncated)
	*bp = buf
	putBuf(bp)
	return err
}

// Flush writes the lines the handler's writer holds in a buffer (the SDK's
// line writer batches them; see o11y.LogsConfig.FlushInterval) and waits
// until they are out, ctx is done, or the writer has made no progress for
// its stall timeout. The middleware calls it when it recovers a panic, so
// the lines about the panic are out before the 500 or the re-panic. A
// writer without a Flush(context.Context) error method: nothing to do.
// Safe on a nil Handler.
func (h *Handler) Flush(ctx context.Context) error {
	if h == nil || h.c == nil {
		return nil
	}
	if f, ok := h.c.w.(interface{ Flush(context.Context) error }); ok {
		return f.Flush(ctx)
	}
	return nil
}

// write writes one line with one Write call and reports trouble (rate-limited).
// A line the SDK's line writer dropped (stuck output) is reported there.
func (c *config) write(line []byte, truncated bool) error {
	_, err := c.w.Write(line)
	if c.rep != nil {
		if err != nil && !errors.Is(err, linewriter.ErrDropped) {
			c.rep.Report("logging.write", fmt.Errorf("logging: write: %w", err))
		}
		if truncated {
			c.rep.Report("logging.truncated", errTruncated)
		}
	}
	return err
}

// appendHeader appends {"time":…,"level":…,"msg":…[,"source":…] and the
// correlation and static fields. Every part is bounded (msg by MaxValueBytes,
// ids and static fields by maxStaticBytes), so the header always fits.
// reqID, when set, replaces the request state's request id.
func (c *config) appendHeader(buf []byte, ctx context.Context, t time.Time, level slog.Level, msg string, src *slog.Source, reqID string) []byte {
	buf = append(buf, '{')
	if !t.IsZero() {
		if c.clock != nil {
			t = c.clock()
		}
		buf = append(buf, `"`+KeyTime+`":`...)
		buf = appendTimeMillis(buf, t)
		buf = append(buf, ',')
	}
	buf = append(buf, `"`+KeyLevel+`":`...)
	buf = appendLevel(buf, level)
	buf = append(buf, `,"`+KeyMessage+`":`...)
	buf = appendStr(buf, msg, MaxValueBytes)
	if src != nil {
		buf = append(buf, `,"`+KeySource+`":{"function":`...)
		buf = appendStr(buf, src.Function, 512)
		buf = append(buf, `,"file":`...)
		buf = appendStr(buf, src.File, 512)
		buf = append(buf, `,"line":`...)
		buf = strconv.AppendInt(buf, int64(src.Line), 10)
		buf = append(buf, '}')
	}
	buf = appendCorrelation(buf, ctx, reqID)
	return append(buf, c.static...)
}

func appendLevel(buf []byte, l slog.Level) []byte {
	switch l {
	case slog.LevelDebug:
		return append(buf, `"DEBUG"`...)
	case slog.LevelInfo:
		return append(buf, `"INFO"`...)
	case slog.LevelWarn:
		return append(buf, `"WARN"`...)
	case slog.LevelError:
		return append(buf, `"ERROR"`...)
	}
	return appendStr(buf, l.String(), 64) // e.g. "INFO+2", as slog writes it
}

// appendCtxAttrs appends the request-scoped attrs of [WithAttrs] at top
// level, dropping the ones that do not fit under limit.
func (c *config) appendCtxAttrs(buf []byte, ctx context.Context, limit int, truncated bool) ([]byte, bool) {
	d := ctxDataFrom(ctx)
	if d == nil {
		return buf, truncated
	}
	for _, a := range d.attrs {
		m := len(buf)
		buf = c.appendAttr(buf, a, 0)
		if len(buf) > limit {
			return buf[:m], true
		}
	}
	return buf, truncated
}

// appendCorrelation appends the trace, span and request ids found in ctx, at
// top level. Nothing is written (and nothing allocated) when ctx has none.
func appendCorrelation(buf []byte, ctx context.Context, reqID string) []byte {
	if ctx == nil {
		ctx = context.Background()
	}
	sc := trace.SpanContextFromContext(ctx)
	if sc.HasTraceID() {
		tid := sc.TraceID()
		buf = append(buf, `,"`+KeyXRayTraceID+`":"`...)
		buf = xrayid.AppendTraceID(buf, tid)
		buf = append(buf, `","`+KeyTraceID+`":"`...)
		buf = xrayid.AppendW3CTraceID(buf, tid)
		buf = append(buf, '"')
		if sc.HasSpanID() {
			buf = append(buf, `,"`+KeySpanID+`":"`...)
			buf = xrayid.AppendSpanID(buf, sc.SpanID())
			buf = append(buf, '"')
		}
		buf = append(buf, `,"`+KeyTraceSampled+`":`...)
		buf = strconv.AppendBool(buf, sc.IsSampled())
	}
	if reqID == "" {
		reqID = reqstate.RequestID(ctx)
	}
	if id := reqID; id != "" {
		buf = append(buf, `,"`+KeyRequestID+`":`...)
		buf = appendStr(buf, id, maxStaticBytes)
	}
	return buf
}
