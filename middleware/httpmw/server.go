package httpmw

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/mwcore"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/tracing"
)

// UnknownRoute is the route of a request whose route template is unknown (no
// ServeMux pattern matched, no route function answered): its span and
// metrics operation are "<METHOD> unknown_route", never the raw path.
const UnknownRoute = "unknown_route"

// New returns the server middleware. sdk nil means [o11y.Default] as it is
// when New is called (call it after [o11y.Start]).
//
// Everything that can be worked out once is worked out here; the returned
// handlers are safe for concurrent use.
func New(sdk *o11y.SDK, opts ...Option) func(http.Handler) http.Handler {
	if sdk == nil {
		sdk = o11y.Default()
	}
	cfg := config{
		skip:        DefaultSkip,
		reqIDHeader: DefaultRequestIDHeader,
		access:      mwcore.AccessFromConfig(sdk.Config().Logs.AccessLog),
	}
	for _, o := range opts {
		if o != nil {
			o.applyServer(&cfg)
		}
	}
	s := &server{
		cfg:    cfg,
		tracer: version.Tracer(sdk.TracerProvider(), scopeName),
		prop:   sdk.Propagator(),
		logh:   sdk.LogHandler(),
		ops:    mwcore.NewOps(sdk.Metrics(), opName),
	}
	s.bufs.New = func() any { return newSpanBuf() }
	return func(next http.Handler) http.Handler {
		return &handler{s: s, next: next}
	}
}

// Handler is New(sdk, opts...)(h).
func Handler(sdk *o11y.SDK, h http.Handler, opts ...Option) http.Handler {
	return New(sdk, opts...)(h)
}

// server is the immutable state shared by every handler New's result wraps.
type server struct {
	cfg    config
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	logh   *logging.Handler
	ops    *mwcore.Ops[opKey]
	bufs   sync.Pool // *spanBuf: attribute scratch space that never reaches a context
}

// opKey identifies an operation: "<METHOD> <route>".
type opKey struct{ method, route string }

func opName(k opKey) string { return k.method + " " + k.route }

type handler struct {
	s    *server
	next http.Handler
}

// spanBuf holds the attribute slices handed to the tracer. The SDK copies
// attributes into the span, so the buffer is reusable as soon as the call
// returns; pooling it saves the option and slice allocations per request.
type spanBuf struct {
	start [4]attribute.KeyValue
	opts  [2]trace.SpanStartOption
	end   [12]attribute.KeyValue
}

var serverKind = trace.WithSpanKind(trace.SpanKindServer)

func newSpanBuf() *spanBuf {
	b := &spanBuf{}
	b.opts[0] = serverKind
	b.opts[1] = trace.WithAttributes(b.start[:]...) // aliases b.start, refilled per request
	return b
}

// request is the one allocation the middleware makes per request: the
// request state and the context layer carrying it, the response writer wrapper, the
// header value slices and the bytes of the request id and trace header.
// It is never pooled: the context (and so user goroutines) can reach it.
type request struct {
	st     reqstate.State
	ctx    reqstate.Context // the handler's context: carries st
	w      responseWriter
	hdr    [2]string
	method string
	route  string
	entry  logging.AccessEntry
	text   [mwcore.GeneratedRequestIDLen + mwcore.MaxTraceHeaderLen]byte // request id + response trace header
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if s.cfg.skip != nil && s.cfg.skip(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	q := &request{}
	q.w.reset(w)
	q.method = normMethod(r.Method)

	ctx := s.prop.Extract(r.Context(), headerCarrier(r.Header))

	q.route = s.route(r)
	name := q.method
	if q.route != "" {
		name = s.ops.Get(opKey{q.method, q.route}).Name
	}
	b := s.bufs.Get().(*spanBuf)
	b.start[0] = attribute.String("http.request.method", q.method)
	b.start[1] = attribute.String("url.path", r.URL.Path)
	b.start[2] = attribute.String("server.address", hostOnly(r.Host))
	b.start[3] = attribute.String("url.scheme", scheme(r))
	ctx, span := s.tracer.Start(ctx, name, b.opts[:]...)
	sc := span.SpanContext()

	// Request id and X-Amzn-Trace-Id share one byte array inside q and are
	// turned into strings without copying (see text).
	text := q.text[:0]
	id := r.Header.Get(s.cfg.reqIDHeader)
	if !mwcore.ValidRequestID(id) {
		text = mwcore.AppendRequestID(text)
	}
	nid := len(text)
	text = mwcore.AppendTraceHeader(text, ctx, sc, r.Header.Get(tracing.HeaderName))
	all := bytesToString(q.text[:], text)
	if nid > 0 {
		id = all[:nid]
	}
	hdr := w.Header()
	q.hdr[0] = id
	hdr[s.cfg.reqIDHeader] = q.hdr[0:1:1]
	if len(all) > nid {
		q.hdr[1] = all[nid:]
		hdr[tracing.HeaderName] = q.hdr[1:2:2]
	}

	q.st.RequestID = id
	q.st.Operation = name
	if s.logh != nil {
		q.st.DebugLogs = s.logh.SampleDebug()
	}
	q.ctx = reqstate.Context{Context: ctx, State: &q.st} // reqstate.With without an allocation
	r2 := r.WithContext(&q.ctx)

	defer s.finish(q, r2, span, b, start)
	h.next.ServeHTTP(&q.w, r2)
}

// bytesToString returns text as a string without copying when it still
// lives in backing (it always does: backing is sized for the longest text).
// backing belongs to a never-pooled request and is not written again, which
// is what unsafe.String requires.
func bytesToString(backing []byte, text []byte) string {
	if len(text) == 0 {
		return ""
	}
	if cap(text) != cap(backing) || &text[0] != &backing[0] {
		return string(text)
	}
	return unsafe.String(&text[0], len(text))
}

// finish runs deferred after the handler: it recovers a panic, names the
// span after the route, sets the outcome attributes, ends the span, records
// the metrics and writes the access line.
func (s *server) finish(q *request, r *http.Request, span trace.Span, b *spanBuf, start time.Time) {
	rv := recover()
	aborted := rv == http.ErrAbortHandler
	if rv != nil && !aborted {
		if span.IsRecording() {
			span.AddEvent("exception", trace.WithAttributes(
				attribute.String("exception.type", "panic"),
				attribute.String("exception.message", panicMessage(rv)),
				attribute.String("exception.stacktrace", string(debug.Stack())),
			))
		}
		if !q.w.wrote && !q.w.hijacked && !s.cfg.rePanic {
			q.w.WriteHeader(http.StatusInternalServerError)
		}
		q.w.wrote, q.w.status = true, http.StatusInternalServerError
	}

	if route := s.route(r); route != "" {
		q.route = route
	}
	route := q.route
	if route == "" {
		route = UnknownRoute
	}
	op := s.ops.Get(opKey{q.method, route})
	q.st.Operation = op.Name

	status := q.w.status
	if !q.w.wrote && !aborted {
		status = http.StatusOK // net/http answers 200 when the handler wrote nothing
	}
	flags := mwcore.HTTPFlags(status)

	ua := clip(r.Header.Get("User-Agent"), 512)
	peer := peerHost(r.RemoteAddr)
	client, _ := mwcore.ClientAddress(r.Header.Get("X-Forwarded-For"), peer)
	if span.IsRecording() {
		span.SetName(op.Name)
		a := b.end[:0]
		if q.route != "" {
			a = append(a, attribute.String("http.route", q.route))
		}
		if p := hostPort(r.Host); p > 0 {
			a = append(a, attribute.Int("server.port", p))
		}
		if status > 0 {
			a = append(a, attribute.Int("http.response.status_code", status))
		}
		if q.method == methodOther {
			a = append(a, attribute.String("http.request.method_original", clip(r.Method, 32)))
		}
		if ua != "" {
			a = append(a, attribute.String("user_agent.original", ua))
		}
		if client != "" {
			a = append(a, attribute.String("client.address", client))
		}
		if peer != "" {
			a = append(a, attribute.String("network.peer.address", peer))
		}
		if r.ContentLength > 0 {
			a = append(a, attribute.Int64("http.request.body.size", r.ContentLength))
		}
		a = append(a, attribute.Int64("http.response.body.size", q.w.bytes))
		if q.st.RequestID != "" {
			a = append(a, attribute.String(AttrRequestID, q.st.RequestID))
		}
		span.SetAttributes(a...)
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		if rv != nil && !aborted && status < 500 {
			span.SetStatus(codes.Error, "panic")
		}
	}
	span.End()
	s.bufs.Put(b)

	elapsed := time.Since(start)
	ctx := r.Context()
	op.Metrics.Observe(ctx, elapsed, flags)
	if s.cfg.access.On && s.logh != nil {
		e := &q.entry
		e.Level = s.cfg.access.Level(flags)
		e.Protocol = "http"
		e.Method = q.method
		e.Route = route
		e.Path = r.URL.Path
		e.Status = status
		e.Duration = elapsed
		if r.ContentLength > 0 {
			e.BytesIn = r.ContentLength
		}
		e.BytesOut = q.w.bytes
		e.RequestID = q.st.RequestID
		e.UserAgent = ua
		e.ClientIP = client
		s.logh.Access(ctx, e)
	}
	if rv != nil && !aborted {
		// The lines about the panic are out before the 500 or the re-panic.
		_ = s.logh.Flush(context.Background())
	}
	if rv != nil && (aborted || s.cfg.rePanic) {
		panic(rv)
	}
}

// AttrRequestID is the span attribute holding the request id.
const AttrRequestID = "http.request.id"

func panicMessage(rv any) string {
	switch v := rv.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return fmt.Sprint(rv)
}

func (s *server) route(r *http.Request) string {
	if s.cfg.route != nil {
		return s.cfg.route(r)
	}
	return PatternRoute(r)
}

// PatternRoute returns the path part of the [http.ServeMux] pattern that
// matched r: "GET example.com/orders/{id}" gives "/orders/{id}". It is the
// default route function.
func PatternRoute(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return ""
	}
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:] // drop the host
	}
	return p
}

const methodOther = "_OTHER"

// normMethod folds unknown methods into "_OTHER" (semconv) so a client
// cannot create span names or metric series at will.
func normMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return methodOther
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// hostOnly strips the port from a Host header value.
func hostOnly(h string) string {
	if len(h) > 0 && h[0] == '[' {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return ""
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return clip(h, 255)
}

// hostPort returns the port of a Host header value, or 0.
func hostPort(h string) int {
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.IndexByte(h[i:], ']') >= 0 || len(h)-i > 6 {
		return 0
	}
	n := 0
	for _, c := range []byte(h[i+1:]) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0
	}
	return n
}

// peerHost returns the host part of a RemoteAddr ("1.2.3.4:5678", "[::1]:80").
func peerHost(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.IndexByte(addr[i:], ']') < 0 {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
