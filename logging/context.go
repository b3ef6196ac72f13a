package logging

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/reqstate"
)

// ctxKey is the package's one context key; its value is a *ctxData.
type ctxKey struct{}

// ctxData is immutable once stored: every change makes a new one
// (copy-on-write), so contexts derived earlier never see later attrs.
type ctxData struct {
	logger *slog.Logger
	attrs  []slog.Attr
}

func ctxDataFrom(ctx context.Context) *ctxData {
	if ctx == nil {
		return nil
	}
	d, _ := ctx.Value(ctxKey{}).(*ctxData)
	return d
}

// WithAttrs returns a context whose log lines (through [Handler], [Wrap] or
// [FromContext]) carry attrs at top level, after the correlation fields. Use
// it once per request for values such as a tenant or user id; later lines
// logged with the returned context (or a context derived from it) show them.
// Redaction applies. At most 64 attrs are kept per context; extra ones are
// dropped.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(attrs) == 0 {
		return ctx
	}
	old := ctxDataFrom(ctx)
	d := &ctxData{}
	n := len(attrs)
	if old != nil {
		d.logger = old.logger
		n += len(old.attrs)
	}
	n = min(n, maxCtxAttrs)
	d.attrs = make([]slog.Attr, 0, n)
	if old != nil {
		d.attrs = append(d.attrs, old.attrs...)
	}
	for _, a := range attrs {
		if len(d.attrs) == n {
			break
		}
		d.attrs = append(d.attrs, a)
	}
	return context.WithValue(ctx, ctxKey{}, d)
}

// Attrs returns the request-scoped attrs stored in ctx by [WithAttrs]. The
// slice must not be modified.
func Attrs(ctx context.Context) []slog.Attr {
	if d := ctxDataFrom(ctx); d != nil {
		return d.attrs
	}
	return nil
}

// NewContext returns a context carrying l, which [FromContext] returns (bound
// to the context) instead of the default logger. Middleware uses it to hand
// the request's enriched logger to handlers.
func NewContext(ctx context.Context, l *slog.Logger) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	d := &ctxData{logger: l}
	if old := ctxDataFrom(ctx); old != nil {
		d.attrs = old.attrs // immutable: safe to share
	}
	return context.WithValue(ctx, ctxKey{}, d)
}

type handlerRef struct{ h slog.Handler }

// defaultHandler is the one piece of package state: the SDK's handler, set by
// the root package's Start through [SetDefaultHandler].
var defaultHandler atomic.Pointer[handlerRef]

// SetDefaultHandler makes h the handler [FromContext] uses when the context
// holds no logger. The root package calls it from Start; nil restores the
// fallback (slog.Default's handler, wrapped with [Wrap]).
func SetDefaultHandler(h slog.Handler) {
	if h == nil {
		defaultHandler.Store(nil)
		return
	}
	defaultHandler.Store(&handlerRef{h: h})
}

// FromContext returns the logger for ctx's request (never nil): the one stored
// with [NewContext], else the SDK's handler ([SetDefaultHandler]), else
// slog.Default's handler with the correlation fields added. The returned
// logger is bound to ctx, so logger.Info(…) without a context still writes
// ctx's trace ids, request id and attrs; a context passed explicitly
// (InfoContext) wins when it carries correlation data itself.
//
// It allocates the logger (two small objects); call it once per request or
// function, not per line.
func FromContext(ctx context.Context) *slog.Logger {
	if ctx == nil {
		ctx = context.Background()
	}
	var base slog.Handler
	if d := ctxDataFrom(ctx); d != nil && d.logger != nil {
		base = d.logger.Handler()
	} else if ref := defaultHandler.Load(); ref != nil {
		base = ref.h
	} else {
		base = slog.Default().Handler()
		if !correlating(base) {
			base = Wrap(base, nil)
		}
	}
	if b, ok := base.(*boundHandler); ok {
		base = b.h
	}
	return slog.New(&boundHandler{h: base, ctx: ctx})
}

// correlating reports whether h already adds the correlation fields.
func correlating(h slog.Handler) bool {
	switch h.(type) {
	case *Handler, *wrapHandler, *boundHandler:
		return true
	}
	return false
}

// boundHandler passes its bound context to h when the call site supplies none
// (slog.Logger.Info passes context.Background()).
type boundHandler struct {
	h   slog.Handler
	ctx context.Context
}

func (b *boundHandler) pick(ctx context.Context) context.Context {
	if ctx == nil || !carriesCorrelation(ctx) {
		return b.ctx
	}
	return ctx
}

// carriesCorrelation reports whether ctx holds anything the handlers read.
func carriesCorrelation(ctx context.Context) bool {
	return trace.SpanContextFromContext(ctx).HasTraceID() ||
		reqstate.From(ctx) != nil || ctx.Value(ctxKey{}) != nil
}

func (b *boundHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return b.h.Enabled(b.pick(ctx), l)
}

func (b *boundHandler) Handle(ctx context.Context, r slog.Record) error {
	return b.h.Handle(b.pick(ctx), r)
}

func (b *boundHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &boundHandler{h: b.h.WithAttrs(attrs), ctx: b.ctx}
}

func (b *boundHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return b
	}
	return &boundHandler{h: b.h.WithGroup(name), ctx: b.ctx}
}
