package grpcmw

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/metrics"
)

// Attribute keys (OpenTelemetry RPC semantic conventions, plus the HTTP and
// URL keys X-Ray's http block and sampling rules read).
const (
	keyRPCSystem      = attribute.Key("rpc.system")
	keyRPCService     = attribute.Key("rpc.service")
	keyRPCMethod      = attribute.Key("rpc.method")
	keyRPCStatusCode  = attribute.Key("rpc.grpc.status_code")
	keyMsgSent        = attribute.Key("rpc.message.sent")
	keyMsgReceived    = attribute.Key("rpc.message.received")
	keyMsgType        = attribute.Key("message.type")
	keyMsgID          = attribute.Key("message.id")
	keyMsgSize        = attribute.Key("message.uncompressed_size")
	keyURLPath        = attribute.Key("url.path")
	keyURLFull        = attribute.Key("url.full")
	keyHTTPMethod     = attribute.Key("http.request.method")
	keyServerAddress  = attribute.Key("server.address")
	keyServerPort     = attribute.Key("server.port")
	keyPeerAddress    = attribute.Key("network.peer.address")
	keyPeerPort       = attribute.Key("network.peer.port")
	keyPeerService    = attribute.Key("peer.service")
	keyUserAgent      = attribute.Key("user_agent.original")
	keyClientAddress  = attribute.Key("client.address")
	valueGRPC         = "grpc"
	methodPOST        = "POST"
	eventMessage      = "message"
	statusMessageSize = 256
	// deadlineSlack: a cancellation this close to the RPC's deadline is the
	// caller's deadline passing.
	deadlineSlack = 20 * time.Millisecond
	// unknownOperation names RPCs for services or methods the server does
	// not have, in span names, metrics and the access-log route.
	unknownOperation = "UnknownMethod"
)

// Options and attributes that never change, built once (boxing them per RPC
// would allocate).
var (
	errUnknownMethod = status.Error(codes.Unimplemented, "unknown service or method")
	rpcSystemGRPC    = keyRPCSystem.String(valueGRPC)
	serverKind       = trace.WithSpanKind(trace.SpanKindServer)
	clientKind       = trace.WithSpanKind(trace.SpanKindClient)
)

// handler implements stats.Handler for both sides; client selects the side.
// Everything it needs is resolved at construction and never changes.
type handler struct {
	client     bool
	cfg        *config
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	metrics    *metrics.Recorder
	logs       *logging.Handler
}

// NewServerHandler returns the server stats.Handler: register it with
// grpc.StatsHandler and it covers unary and every streaming kind. A nil sdk
// means [o11y.Default] as of this call. Add [UnaryServerRecovery] and
// [StreamServerRecovery] (or use [ServerOptions]) for panic recovery and the
// x-amzn-trace-id response metadata, which a stats handler cannot provide.
func NewServerHandler(sdk *o11y.SDK, opts ...Option) stats.Handler {
	return newHandler(sdk, false, opts)
}

// NewClientHandler returns the client stats.Handler: register it with
// grpc.WithStatsHandler. Each call attempt gets a CLIENT span (an X-Ray
// subsegment with namespace "remote") and its trace context is injected into
// the outgoing metadata (x-amzn-trace-id, traceparent, per the SDK's
// propagator).
func NewClientHandler(sdk *o11y.SDK, opts ...Option) stats.Handler {
	return newHandler(sdk, true, opts)
}

func newHandler(sdk *o11y.SDK, client bool, opts []Option) *handler {
	if sdk == nil {
		sdk = o11y.Default()
	}
	return &handler{
		client:     client,
		cfg:        newConfig(opts),
		tracer:     sdk.Tracer(),
		propagator: sdk.Propagator(),
		metrics:    sdk.Metrics(),
		logs:       sdk.LogHandler(),
	}
}

// rpcState is this package's per-RPC (per client attempt) state, stored under
// one context key. Counters are atomic: on bidirectional streams gRPC reports
// sends and receives from different goroutines.
type rpcState struct {
	span       trace.Span
	fullMethod string
	req        reqstate.State // server only; reqstate.With points at it
	// sampleReq is true when the caller sent "Sampled=?" and wants our
	// decision back in the response metadata.
	sampleReq bool
	carrier   incomingCarrier // server only, during TagRPC
	// Server only, from the incoming headers, for the access log.
	userAgent string
	clientIP  string
	sent      atomic.Int64
	received  atomic.Int64
	bytesIn   atomic.Int64
	bytesOut  atomic.Int64
	ended     atomic.Bool
	begun     atomic.Bool // stats.Begin seen
	unknown   bool        // server: no such service or method
	start     time.Time   // server: TagRPC time, for RPCs gRPC never begins
	// panicked is set by the recovery interceptors, which already put the
	// panic message into the span status.
	panicked atomic.Bool
}

type stateKey struct{}

func stateFrom(ctx context.Context) *rpcState {
	st, _ := ctx.Value(stateKey{}).(*rpcState)
	return st
}

// TagConn implements stats.Handler.
func (h *handler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler.
func (h *handler) HandleConn(context.Context, stats.ConnStats) {}

// TagRPC implements stats.Handler: it starts the span and, on the server,
// creates the request state; on the client it injects the trace context.
func (h *handler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if info == nil {
		return ctx
	}
	if h.client {
		return h.tagClient(ctx, info.FullMethodName)
	}
	return h.tagServer(ctx, info.FullMethodName)
}

func (h *handler) tagServer(ctx context.Context, full string) context.Context {
	st := &rpcState{fullMethod: full, start: time.Now()}
	rid := firstIncoming(ctx, requestIDKey)
	if !validRequestID(rid) {
		rid = newRequestID()
	}
	st.req.RequestID = rid
	st.req.Operation = full
	if h.cfg.skip != nil && h.cfg.skip(full) {
		// Filtered: request id only, so logs still correlate.
		return reqstate.With(ctx, &st.req)
	}
	st.req.DebugLogs = h.logs.SampleDebug()

	xh := firstIncoming(ctx, traceHeaderKey)
	st.sampleReq = xh != "" && samplingRequested(xh)
	st.carrier = incomingCarrier{ctx: ctx, xray: xh}
	ctx = h.propagator.Extract(ctx, &st.carrier)
	st.carrier = incomingCarrier{} // drop the reference to the pre-RPC context

	service, method := splitMethod(full)
	// Start attributes are what the sampler sees (X-Ray rules match on
	// service, host, method and URL path).
	attrs := [6]attribute.KeyValue{
		rpcSystemGRPC,
		keyRPCService.String(service),
		keyRPCMethod.String(method),
		keyURLPath.String(full),
		keyHTTPMethod.String(methodPOST),
	}
	n := 5
	authority := firstIncoming(ctx, authorityKey)
	if authority != "" {
		host, _ := splitHostPort(authority)
		attrs[n] = keyServerAddress.String(host)
		n++
	}
	ctx, st.span = h.tracer.Start(ctx, full,
		serverKind,
		trace.WithAttributes(attrs[:n]...))
	if st.span.IsRecording() {
		if authority != "" {
			st.span.SetAttributes(keyURLFull.String("grpc://" + authority + full))
		}
	}
	ctx = reqstate.With(ctx, &st.req)
	return context.WithValue(ctx, stateKey{}, st)
}

func (h *handler) tagClient(ctx context.Context, full string) context.Context {
	if h.cfg.skip != nil && h.cfg.skip(full) {
		return ctx
	}
	st := &rpcState{fullMethod: full}
	service, method := splitMethod(full)
	name := h.cfg.peerService
	if name == "" {
		name = service
	}
	if name == "" {
		name = full
	}
	attrs := [4]attribute.KeyValue{
		rpcSystemGRPC,
		keyRPCService.String(service),
		keyRPCMethod.String(method),
	}
	n := 3
	if h.cfg.peerService != "" {
		attrs[n] = keyPeerService.String(h.cfg.peerService)
		n++
	}
	ctx, st.span = h.tracer.Start(ctx, name,
		clientKind,
		trace.WithAttributes(attrs[:n]...))
	var c outgoingCarrier
	h.propagator.Inject(ctx, &c)
	if c.n > 0 {
		ctx = injectOutgoing(ctx, &c)
	}
	return context.WithValue(ctx, stateKey{}, st)
}

// injectOutgoing adds the injected fields to the outgoing metadata. Values
// already there under the same keys (a proxy forwarding its incoming
// metadata) are replaced, or the callee would read the stale first value.
func injectOutgoing(ctx context.Context, c *outgoingCarrier) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok { // copies; only when the app set metadata
		clash := false
		for i := 0; i < c.n; i += 2 {
			if _, ok := md[c.kv[i]]; ok {
				clash = true
				break
			}
		}
		if clash {
			for i := 0; i < c.n; i += 2 {
				md[c.kv[i]] = []string{c.kv[i+1]}
			}
			return metadata.NewOutgoingContext(ctx, md)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, c.kv[:c.n]...)
}

// HandleRPC implements stats.Handler.
func (h *handler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	st := stateFrom(ctx)
	if st == nil || st.span == nil {
		return // filtered, or not tagged by this handler
	}
	switch e := s.(type) {
	case *stats.InPayload:
		id := st.received.Add(1)
		st.bytesIn.Add(int64(e.Length))
		if h.cfg.messageEvents && st.span.IsRecording() {
			st.span.AddEvent(eventMessage, trace.WithAttributes(
				keyMsgType.String("RECEIVED"), keyMsgID.Int64(id), keyMsgSize.Int(e.Length)))
		}
	case *stats.OutPayload:
		id := st.sent.Add(1)
		st.bytesOut.Add(int64(e.Length))
		if h.cfg.messageEvents && st.span.IsRecording() {
			st.span.AddEvent(eventMessage, trace.WithAttributes(
				keyMsgType.String("SENT"), keyMsgID.Int64(id), keyMsgSize.Int(e.Length)))
		}
	case *stats.InHeader:
		if h.client {
			return
		}
		st.userAgent = firstValue(e.Header, "user-agent")
		peerHost, peerPort := addrHostPort(e.RemoteAddr)
		st.clientIP = peerHost
		forwarded := false
		if xff := firstValue(e.Header, "x-forwarded-for"); xff != "" {
			if ip, _, _ := cutComma(xff); ip != "" {
				st.clientIP, forwarded = ip, true
			}
		}
		if st.span.IsRecording() {
			if st.userAgent != "" {
				st.span.SetAttributes(keyUserAgent.String(st.userAgent))
			}
			if peerHost != "" {
				st.span.SetAttributes(keyPeerAddress.String(peerHost))
				if peerPort > 0 {
					st.span.SetAttributes(keyPeerPort.Int(peerPort))
				}
			}
			if forwarded {
				st.span.SetAttributes(keyClientAddress.String(st.clientIP))
			}
		}
	case *stats.OutHeader:
		if h.client && e.Authority != "" && st.span.IsRecording() {
			host, port := splitHostPort(e.Authority)
			st.span.SetAttributes(
				keyServerAddress.String(host),
				keyURLFull.String("grpc://"+e.Authority+st.fullMethod),
				keyHTTPMethod.String(methodPOST))
			if port > 0 {
				st.span.SetAttributes(keyServerPort.Int(port))
			}
		}
	case *stats.Begin:
		st.begun.Store(true)
	case *stats.OutTrailer:
		if !h.client && !st.begun.Load() {
			// grpc-go answers an unknown service or method with Unimplemented
			// without ever beginning the RPC, so no stats.End follows.
			// The name came off the wire: keep it out of span names and
			// metric dimensions (a scanner would create a series per probe).
			st.span.SetName(unknownOperation)
			st.unknown = true
			h.end(ctx, st, &stats.End{BeginTime: st.start, EndTime: time.Now(), Error: errUnknownMethod})
		}
	case *stats.End:
		h.end(ctx, st, e)
	}
}

// end finishes one RPC: span attributes and status, span end, and on the
// server the metrics and the access-log line. gRPC delivers stats.End on every
// termination path (success, error, cancellation, deadline, panic recovered by
// our interceptors); the ended flag guards against a second delivery.
func (h *handler) end(ctx context.Context, st *rpcState, e *stats.End) {
	if !st.ended.CompareAndSwap(false, true) {
		return
	}
	code := codes.OK
	var msg string
	if e.Error != nil {
		s, _ := status.FromError(e.Error) // non-status errors become Unknown
		code, msg = s.Code(), s.Message()
	}
	if !h.client && code == codes.Canceled {
		// When the caller's deadline passes, the caller resets the stream and
		// the server only sees a cancellation. Report what happened.
		// The server's deadline runs a transit time behind the caller's, so
		// the cancellation can arrive just before it.
		if dl, ok := ctx.Deadline(); ok && dl.Sub(e.EndTime) < deadlineSlack {
			code, msg = codes.DeadlineExceeded, "caller deadline exceeded"
		}
	}
	flags := CodeFlags(code)
	if st.span.IsRecording() {
		st.span.SetAttributes(
			keyRPCStatusCode.Int(int(code)),
			keyMsgSent.Int64(st.sent.Load()),
			keyMsgReceived.Int64(st.received.Load()))
		if flags&metrics.FlagFault != 0 && !st.panicked.Load() {
			if len(msg) > statusMessageSize {
				msg = msg[:statusMessageSize]
			}
			st.span.SetStatus(otelcodes.Error, code.String()+": "+msg)
		}
	}
	st.span.End() // now, a few µs after e.EndTime: saves an allocation
	if h.client {
		return
	}
	latency := e.EndTime.Sub(e.BeginTime)
	if e.BeginTime.IsZero() || latency < 0 {
		latency = 0
	}
	op := st.fullMethod
	if st.unknown {
		op = unknownOperation
	}
	h.metrics.Operation(op).Observe(ctx, latency, flags)
	level := slog.LevelInfo
	switch {
	case flags&metrics.FlagFault != 0:
		level = slog.LevelError
	case flags != 0:
		level = slog.LevelWarn
	}
	h.logs.Access(ctx, &logging.AccessEntry{
		Level:     level,
		Protocol:  valueGRPC,
		Method:    st.fullMethod,
		Route:     op,
		Status:    int(code),
		Duration:  latency,
		BytesIn:   st.bytesIn.Load(),
		BytesOut:  st.bytesOut.Load(),
		RequestID: st.req.RequestID,
		GRPCCode:  code.String(),
		UserAgent: st.userAgent,
		ClientIP:  st.clientIP,
	})
}

// splitHostPort splits "host:port" without allocating; a missing or bad port
// yields 0 and the whole string as host.
func splitHostPort(hp string) (string, int) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return host, 0
	}
	return host, p
}

// addrHostPort is splitHostPort(a.String()) with fewer allocations for TCP.
func addrHostPort(a net.Addr) (string, int) {
	switch a := a.(type) {
	case nil:
		return "", 0
	case *net.TCPAddr:
		if a == nil {
			return "", 0
		}
		return a.IP.String(), a.Port
	}
	return splitHostPort(a.String())
}

func firstValue(md metadata.MD, key string) string {
	if v := md[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func cutComma(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return trimSpace(s[:i]), s[i+1:], true
		}
	}
	return trimSpace(s), "", false
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
