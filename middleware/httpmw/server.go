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

// spanBuf holds the attribute slice and the start option handed to the
// tracer. The SDK copies attributes into the span, so the buffer is
// reusable as soon as the call returns; pooling it saves the option and
// slice allocations per request.
//
// The span starts without attributes: the first four (what X-Ray sampling
// rules match on) reach the sampler through the request state in the
// parent context (reqstate.State.Sampling), and every attribute is set in
// one SetAttributes call at the end. Start attributes would be copied into
// the option config and into the span, and the span's slice would grow a
// second time at the end.
type spanBuf struct {
	opts  [1]trace.SpanStartOption
	attrs [nStartAttrs + 10]attribute.KeyValue
}

// nStartAttrs is the number of sampler inputs at the head of spanBuf.attrs.
const nStartAttrs = 4

var serverKind = trace.WithSpanKind(trace.SpanKindServer)

func newSpanBuf() *spanBuf {
	b := &spanBuf{}
	b.opts[0] = serverKind
	return b
}

// request is the one allocation the middleware makes per request: the
// request state and the context layer carrying it, the response writer wrapper, the
// header value slices and the bytes of the request id and trace header.
// The access entry is not in it: it lives on finish's stack.
// It is never pooled: the context (and so user goroutines) can reach it.
type request struct {
	st     reqstate.State
	ctx    reqstate.Context // carries st; the span's parent, so the handler's context reaches it
	w      responseWriter
	hdr    [2]string
	method string
	route  string
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
	// Request id and X-Amzn-Trace-Id share one byte array inside q and are
	// turned into strings without copying (see text).
	text := q.text[:0]
	id := header(r.Header, s.cfg.reqIDHeader)
	if !mwcore.ValidRequestID(id) {
		text = mwcore.AppendRequestID(text)
		id = bytesToString(q.text[:], text)
	}
	nid := len(text)
	q.st.RequestID = id
	q.st.Operation = name
	if s.logh != nil {
		q.st.DebugLogs = s.logh.SampleDebug()
	}

	b := s.bufs.Get().(*spanBuf)
	b.attrs[0] = attribute.String("http.request.method", q.method)
	b.attrs[1] = attribute.String("url.path", r.URL.Path)
	b.attrs[2] = attribute.String("server.address", hostOnly(r.Host))
	b.attrs[3] = attribute.String("url.scheme", scheme(r))
	q.st.Sampling = b.attrs[:nStartAttrs:nStartAttrs]
	q.ctx = reqstate.Context{Context: ctx, State: &q.st} // reqstate.With without an allocation
	ctx, span := s.tracer.Start(&q.ctx, name, b.opts[:]...)
	q.st.Sampling = nil // sampler-only: not visible past the start
	sc := span.SpanContext()

	text = mwcore.AppendTraceHeader(text, ctx, sc, header(r.Header, tracing.HeaderName))
	hdr := w.Header()
	q.hdr[0] = id
	hdr[s.cfg.reqIDHeader] = q.hdr[0:1:1]
	if len(text) > nid {
		q.hdr[1] = bytesToString(q.text[nid:], text[nid:])
		hdr[tracing.HeaderName] = q.hdr[1:2:2]
	}
	r2 := r.WithContext(ctx)

	defer s.finish(q, r2, span, b, start)
	h.next.ServeHTTP(&q.w, r2)
}

// header is h.Get(key) for a key already in canonical form (the constants
// here, and WithRequestIDHeader canonicalises its name): net/http stores
// incoming header keys canonicalised, so the lookup skips Get's
// canonicalisation scan.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
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

	ua := clip(header(r.Header, "User-Agent"), 512)
	peer := peerHost(r.RemoteAddr)
	client, _ := mwcore.ClientAddress(header(r.Header, "X-Forwarded-For"), peer)
	if span.IsRecording() {
		span.SetName(op.Name)
		a := b.attrs[:nStartAttrs]
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
		// On the stack: Access does not keep the entry.
		var entry logging.AccessEntry
		e := &entry
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
