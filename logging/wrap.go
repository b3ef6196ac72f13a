package logging

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/xrayid"
)

// Wrap returns a handler that adds the correlation fields (xray_trace_id,
// trace_id, span_id, trace_sampled, request_id), the static fields (service,
// version, environment) and the context attrs of [WithAttrs] to every record,
// redacts keys at any depth, and passes the record on to h, so a team keeps
// its own format (slog.TextHandler, a vendor handler…).
//
// The added fields stay at top level even after WithGroup: Wrap keeps the
// groups itself and hands h one record whose group attrs nest the record's
// attrs. Enabled lets Debug records of debug-sampled requests through even
// when h would not; Options.Level is ignored (h decides). Wrapping a
// [*Handler] returns it unchanged. This path allocates (it builds a new
// record with string ids); the SDK's own [Handler] does not.
func Wrap(h slog.Handler, opts *Options) slog.Handler {
	if h == nil {
		h = slog.DiscardHandler
	}
	if correlating(h) {
		return h
	}
	c := newConfig(nil, opts)
	if len(c.staticAttr) > 0 {
		h = h.WithAttrs(c.staticAttr)
	}
	return &wrapHandler{inner: h, c: c}
}

// wrapHandler: inner already holds the top-level WithAttrs attrs; frames are
// the groups opened since, each with the attrs added inside it.
type wrapHandler struct {
	inner  slog.Handler
	c      *config
	frames []frame
}

type frame struct {
	name  string
	attrs []slog.Attr
}

// SampleDebug is [Handler.SampleDebug] for a wrapped handler.
func (w *wrapHandler) SampleDebug() bool { return sample(w.c.sampleRate) }

func (w *wrapHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return w.inner.Enabled(ctx, l) || (l >= slog.LevelDebug && debugSampled(ctx))
}

func (w *wrapHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return w
	}
	attrs = w.c.redactAttrs(attrs, 0)
	w2 := *w
	if len(w.frames) == 0 {
		w2.inner = w.inner.WithAttrs(attrs)
		return &w2
	}
	w2.frames = append([]frame(nil), w.frames...)
	last := &w2.frames[len(w2.frames)-1]
	last.attrs = append(last.attrs[:len(last.attrs):len(last.attrs)], attrs...)
	return &w2
}

func (w *wrapHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return w
	}
	w2 := *w
	w2.frames = append(w.frames[:len(w.frames):len(w.frames)], frame{name: name})
	return &w2
}

func (w *wrapHandler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	var corr [5]slog.Attr
	nr.AddAttrs(appendCorrelationAttrs(corr[:0], ctx)...)
	if d := ctxDataFrom(ctx); d != nil {
		nr.AddAttrs(w.c.redactAttrs(d.attrs, 0)...)
	}
	if len(w.frames) == 0 {
		r.Attrs(func(a slog.Attr) bool {
			nr.AddAttrs(w.c.redactAttr(a, 0))
			return true
		})
		return w.inner.Handle(ctx, nr)
	}
	// Nest the record's attrs in the open groups, innermost first.
	inner := make([]slog.Attr, 0, r.NumAttrs()+len(w.frames[len(w.frames)-1].attrs))
	inner = append(inner, w.frames[len(w.frames)-1].attrs...)
	r.Attrs(func(a slog.Attr) bool {
		inner = append(inner, w.c.redactAttr(a, 0))
		return true
	})
	g := slog.Attr{Key: w.frames[len(w.frames)-1].name, Value: slog.GroupValue(inner...)}
	for i := len(w.frames) - 2; i >= 0; i-- {
		attrs := make([]slog.Attr, 0, len(w.frames[i].attrs)+1)
		attrs = append(attrs, w.frames[i].attrs...)
		g = slog.Attr{Key: w.frames[i].name, Value: slog.GroupValue(append(attrs, g)...)}
	}
	nr.AddAttrs(g)
	return w.inner.Handle(ctx, nr)
}

// appendCorrelationAttrs appends ctx's correlation fields as attrs (the id
// strings are allocated).
func appendCorrelationAttrs(out []slog.Attr, ctx context.Context) []slog.Attr {
	if ctx == nil {
		return out
	}
	sc := trace.SpanContextFromContext(ctx)
	if sc.HasTraceID() {
		tid := sc.TraceID()
		var b [xrayid.TraceIDLen + 32 + 16]byte
		ids := xrayid.AppendTraceID(b[:0], tid)
		ids = xrayid.AppendW3CTraceID(ids, tid)
		ids = xrayid.AppendSpanID(ids, sc.SpanID())
		all := string(ids) // one allocation for the three ids
		out = append(out,
			slog.String(KeyXRayTraceID, all[:xrayid.TraceIDLen]),
			slog.String(KeyTraceID, all[xrayid.TraceIDLen:xrayid.TraceIDLen+32]))
		if sc.HasSpanID() {
			out = append(out, slog.String(KeySpanID, all[xrayid.TraceIDLen+32:]))
		}
		out = append(out, slog.Bool(KeyTraceSampled, sc.IsSampled()))
	}
	if id := reqstate.RequestID(ctx); id != "" {
		out = append(out, slog.String(KeyRequestID, id))
	}
	return out
}

// redactAttrs returns attrs with redacted keys masked at any depth; the input
// is returned as-is (no copy) when nothing matches.
func (c *config) redactAttrs(attrs []slog.Attr, depth int) []slog.Attr {
	if c.redact == nil {
		return attrs
	}
	var out []slog.Attr
	for i, a := range attrs {
		ra, changed := c.redactOne(a, depth)
		if out == nil && changed {
			out = make([]slog.Attr, len(attrs))
			copy(out, attrs[:i])
		}
		if out != nil {
			out[i] = ra
		}
	}
	if out == nil {
		return attrs
	}
	return out
}

// redactAttr masks a if its key is redacted; groups (and LogValuers, which
// are resolved here) are searched recursively.
func (c *config) redactAttr(a slog.Attr, depth int) slog.Attr {
	ra, _ := c.redactOne(a, depth)
	return ra
}

func (c *config) redactOne(a slog.Attr, depth int) (slog.Attr, bool) {
	if c.redact == nil {
		return a, false
	}
	if c.redact.match(a.Key) {
		return slog.String(a.Key, Redacted), true
	}
	k := a.Value.Kind()
	if k == slog.KindAny {
		x := a.Value.Any()
		if red := c.redact.any(x, depth); !sameValue(red, x) {
			return slog.Any(a.Key, red), true
		}
		return a, false
	}
	if k != slog.KindGroup && k != slog.KindLogValuer || depth >= maxDepth {
		return a, false
	}
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup {
		return slog.Attr{Key: a.Key, Value: v}, k == slog.KindLogValuer
	}
	g := v.Group()
	rg := c.redactAttrs(g, depth+1)
	if k == slog.KindGroup && len(rg) > 0 && &rg[0] == &g[0] {
		return a, false // nothing inside changed
	}
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(rg...)}, true
}
