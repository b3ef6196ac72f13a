package grpcmw

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/mwcore"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/version"
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
	client bool
	common
	peerService string        // client
	rePanic     bool          // server (read by the recovery interceptors)
	access      mwcore.Access // server
	tracer      trace.Tracer
	propagator  propagation.TextMapPropagator
	ops         *mwcore.Ops[string] // server: span name = metrics Operation
	logs        *logging.Handler
}

// NewServerHandler returns the server stats.Handler: register it with
// grpc.StatsHandler and it covers unary and every streaming kind. A nil sdk
// means [o11y.Default] as of this call. Add [UnaryServerRecovery] and
// [StreamServerRecovery] (or use [ServerOptions]) for panic recovery and the
// x-amzn-trace-id response metadata, which a stats handler cannot provide.
func NewServerHandler(sdk *o11y.SDK, opts ...Option) stats.Handler {
	return newServerHandler(sdk, opts)
}

// NewClientHandler returns the client stats.Handler: register it with
// grpc.WithStatsHandler. Each call attempt gets a CLIENT span (an X-Ray
// subsegment with namespace "remote") and its trace context is injected into
// the outgoing metadata (x-amzn-trace-id, traceparent, per the SDK's
// propagator).
func NewClientHandler(sdk *o11y.SDK, opts ...ClientOption) stats.Handler {
	if sdk == nil {
		sdk = o11y.Default()
	}
	c := clientConfig{common: defaults()}
	for _, o := range opts {
		if o != nil {
			o.applyClient(&c)
		}
	}
	return &handler{
		client:      true,
		common:      c.common,
		peerService: c.peerService,
		tracer:      version.Tracer(sdk.TracerProvider(), scopeName),
		propagator:  sdk.Propagator(),
	}
}

func defaults() common {
	return common{skip: DefaultSkip, reqIDKey: DefaultRequestIDHeader}
}

func newServerHandler(sdk *o11y.SDK, opts []Option) *handler {
	if sdk == nil {
		sdk = o11y.Default()
	}
	c := serverConfig{common: defaults(), access: mwcore.AccessFromConfig(sdk.Config().Logs.AccessLog)}
	for _, o := range opts {
		if o != nil {
			o.applyServer(&c)
		}
	}
	return &handler{
		common:     c.common,
		rePanic:    c.rePanic,
		access:     c.access,
		tracer:     version.Tracer(sdk.TracerProvider(), scopeName),
		propagator: sdk.Propagator(),
		ops:        mwcore.NewOps(sdk.Metrics(), func(op string) string { return op }),
		logs:       sdk.LogHandler(),
	}
}

// rpcState is this package's per-RPC (per client attempt) state, stored under
// one context key. Counters are atomic: on bidirectional streams gRPC reports
// sends and receives from different goroutines.
type rpcState struct {
	// ctx is the context TagRPC returns: the parent plus this state, in the
	// same allocation (see stateCtx).
	ctx        stateCtx
	h          *handler
	span       trace.Span
	fullMethod string
	// op is the operation (span name = metrics Operation), once known: at
	// TagRPC for a method seen before, else at the end (a name off the wire
	// is admitted only once the server has answered it).
	op   *mwcore.Op
	req  reqstate.State // server only; the context answers reqstate.Key with it
	xray string         // server only: the raw incoming x-amzn-trace-id
	// Server only, from the incoming headers, for the access log.
	userAgent string
	clientIP  string
	sent      atomic.Int64
	received  atomic.Int64
	bytesIn   atomic.Int64
	bytesOut  atomic.Int64
	startNs   int64 // server: TagRPC time (Unix ns), for RPCs gRPC never begins

	// Server only, from InHeader; set on the span at the end, in one call.
	peerHost  string
	authority string
	peerPort  int32

	ended atomic.Bool
	begun atomic.Bool // stats.Begin seen
	// panicked is set by the recovery interceptors, which already put the
	// panic message into the span status.
	panicked  atomic.Bool
	hasReq    bool // server RPC: req is set
	opAtStart bool // op was known at TagRPC and named the span
	unknown   bool // server: no such service or method

	// Backing bytes for strings this RPC creates: the generated request id,
	// url.full and the x-amzn-trace-id response value. rpcState is never
	// reused, so strings pointing into them stay valid (see bytesToString).
	idBuf   [32]byte
	urlBuf  [96]byte
	respBuf [mwcore.MaxTraceHeaderLen]byte
	// respVals back the response metadata values.
	respVals [2]string
}

type stateKey struct{}

// stateCtx is a context carrying an *rpcState, embedded in the rpcState
// itself so that TagRPC does not allocate a separate context node.
type stateCtx struct {
	context.Context
	st *rpcState
}

// Value implements context.Context.
func (c *stateCtx) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return c.st
	}
	if c.st.hasReq && key == reqstate.Key { // server RPCs: reqstate.With without a layer
		return &c.st.req
	}
	return c.Context.Value(key)
}

func stateFrom(ctx context.Context) *rpcState {
	st, _ := ctx.Value(stateKey{}).(*rpcState)
	return st
}

// withState returns ctx carrying st.
func withState(ctx context.Context, st *rpcState) context.Context {
	st.ctx = stateCtx{Context: ctx, st: st}
	return &st.ctx
}

// connKey carries a server connection's peer address, worked out once per
// connection (formatting an IP allocates) instead of once per RPC.
type connKey struct{}

type connInfo struct {
	addr net.Addr
	host string
	port int
}

// TagConn implements stats.Handler: on the server it formats the peer
// address once for every RPC on the connection.
func (h *handler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if h.client || info == nil || info.RemoteAddr == nil {
		return ctx
	}
	host, port := addrHostPort(info.RemoteAddr)
	return context.WithValue(ctx, connKey{}, &connInfo{addr: info.RemoteAddr, host: host, port: port})
}

// peerOf returns the host and port of a, from the connection's cache when
// a is the connection's address.
func peerOf(ctx context.Context, a net.Addr) (string, int) {
	if ci, ok := ctx.Value(connKey{}).(*connInfo); ok && ci.addr == a {
		return ci.host, ci.port
	}
	return addrHostPort(a)
}

// spanBuf is scratch space for the attribute slice and the start option
// handed to the tracer, which copies them, so it is pooled: it saves the
// option and slice allocations per RPC.
//
// Server spans start without attributes: the start attributes (what X-Ray
// sampling rules match on) reach the sampler through the request state in
// the parent context (reqstate.State.Sampling), and every attribute is set
// in one SetAttributes call at the end, which spares the SDK a copy into
// the option config and a second growth of the span's attribute slice.
//
// On the server it also holds the carrier the propagator extracts from in
// TagRPC (a pointer into a pooled object: passing it as an interface does
// not allocate).
type spanBuf struct {
	opts    [1]trace.SpanStartOption // serverKind
	attrs   [nStartAttrs + 8]attribute.KeyValue
	carrier incomingCarrier
}

// nStartAttrs is the most sampler inputs a server span has.
const nStartAttrs = 6

var spanBufs = sync.Pool{New: func() any {
	b := &spanBuf{}
	b.opts[0] = serverKind
	return b
}}

// bytesToString returns text as a string without copying. text must live in
// an rpcState (never reused, never written again once converted).
func bytesToString(text []byte) string {
	if len(text) == 0 {
		return ""
	}
	return unsafe.String(&text[0], len(text))
}

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
	if h.skip != nil && h.skip(full) {
		return ctx
	}
	st := &rpcState{h: h, fullMethod: full, startNs: time.Now().UnixNano()}
	b := spanBufs.Get().(*spanBuf)
	c := &b.carrier
	c.in = newIncoming(ctx)
	rid := c.in.get(h.reqIDKey)
	if !mwcore.ValidRequestID(rid) {
		rid = bytesToString(mwcore.AppendRequestID(st.idBuf[:0]))
	}
	name := full
	if st.op = h.ops.Lookup(full); st.op != nil {
		name, st.opAtStart = st.op.Name, true
	}
	st.req.RequestID = rid
	st.req.Operation = name
	st.req.DebugLogs = h.logs.SampleDebug()

	st.xray = c.in.get(traceHeaderKey)
	st.authority = c.in.get(authorityKey)
	c.xray = st.xray
	ctx = h.propagator.Extract(ctx, c)
	*c = incomingCarrier{} // the pool keeps no reference to this RPC

	// The span's parent is st.ctx, which carries the request state and, while
	// the span starts, the sampler-only inputs (X-Ray rules match on service,
	// host, method and URL path). The context returned wraps it, so the
	// state stays reachable without a layer of its own.
	st.hasReq = true
	st.req.Sampling = st.startAttributes(b.attrs[:0])
	st.ctx = stateCtx{Context: ctx, st: st}
	ctx, st.span = h.tracer.Start(&st.ctx, name, b.opts[:]...)
	st.req.Sampling = nil        // sampler-only: not visible past the start
	clear(b.attrs[:nStartAttrs]) // drop references to this RPC's strings
	spanBufs.Put(b)
	return ctx
}

// startAttributes appends the server span's request attributes, the
// sampler's inputs: at most nStartAttrs.
func (st *rpcState) startAttributes(a []attribute.KeyValue) []attribute.KeyValue {
	service, method := splitMethod(st.fullMethod)
	a = append(a,
		rpcSystemGRPC,
		keyRPCService.String(service),
		keyRPCMethod.String(method),
		keyURLPath.String(st.fullMethod),
		keyHTTPMethod.String(methodPOST))
	if st.authority != "" {
		host, _ := splitHostPort(st.authority)
		a = append(a, keyServerAddress.String(host))
	}
	return a
}

func (h *handler) tagClient(ctx context.Context, full string) context.Context {
	if h.skip != nil && h.skip(full) {
		return ctx
	}
	st := &rpcState{h: h, fullMethod: full}
	service, method := splitMethod(full)
	name := h.peerService
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
	if h.peerService != "" {
		attrs[n] = keyPeerService.String(h.peerService)
		n++
	}
	ctx, st.span = h.tracer.Start(ctx, name,
		clientKind,
		trace.WithAttributes(attrs[:n]...))
	var c outgoingCarrier
	h.propagator.Inject(ctx, &c)
	ctx = injectOutgoing(ctx, &c, h.reqIDKey, reqstate.RequestID(ctx))
	return withState(ctx, st)
}

// injectOutgoing adds the injected trace fields and the request id (rid, of
// the request being served, "" for none) to the outgoing metadata. Trace
// fields already there under the same keys (a proxy forwarding its incoming
// metadata) are replaced, or the callee would read the stale first value; a
// request id the application set itself is kept.
func injectOutgoing(ctx context.Context, c *outgoingCarrier, ridKey, rid string) context.Context {
	md, ok := metadata.FromOutgoingContext(ctx) // copies; only when the app set metadata
	if ok && rid != "" {
		if _, set := md[ridKey]; set {
			rid = ""
		}
	}
	n := c.n
	if rid != "" && n < len(c.kv) {
		c.kv[n], c.kv[n+1] = ridKey, rid
		n += 2
	}
	if n == 0 {
		return ctx
	}
	if ok {
		clash := false
		for i := 0; i < c.n; i += 2 {
			if _, ok := md[c.kv[i]]; ok {
				clash = true
				break
			}
		}
		if clash {
			for i := 0; i < n; i += 2 {
				md[c.kv[i]] = []string{c.kv[i+1]}
			}
			return metadata.NewOutgoingContext(ctx, md)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, c.kv[:n]...)
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
		if h.messageEvents && st.span.IsRecording() {
			st.span.AddEvent(eventMessage, trace.WithAttributes(
				keyMsgType.String("RECEIVED"), keyMsgID.Int64(id), keyMsgSize.Int(e.Length)))
		}
	case *stats.OutPayload:
		id := st.sent.Add(1)
		st.bytesOut.Add(int64(e.Length))
		if h.messageEvents && st.span.IsRecording() {
			st.span.AddEvent(eventMessage, trace.WithAttributes(
				keyMsgType.String("SENT"), keyMsgID.Int64(id), keyMsgSize.Int(e.Length)))
		}
	case *stats.InHeader:
		if h.client {
			return
		}
		// Recorded here, set on the span at the end in one call.
		st.userAgent = firstValue(e.Header, "user-agent")
		host, port := peerOf(ctx, e.RemoteAddr)
		st.peerHost, st.peerPort = host, int32(port)
		st.clientIP, _ = mwcore.ClientAddress(firstValue(e.Header, "x-forwarded-for"), st.peerHost)
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
			st.unknown = true
			h.end(ctx, st, &stats.End{BeginTime: time.Unix(0, st.startNs), EndTime: time.Now(), Error: errUnknownMethod})
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
	flags := mwcore.GRPCFlags(uint32(code))
	route := st.fullMethod
	if !h.client {
		rename := !st.opAtStart // the span still has the wire name
		if st.unknown {
			route, st.op, rename = unknownOperation, nil, true
		}
		if st.op == nil {
			st.op = h.ops.Get(route)
		}
		st.req.Operation = st.op.Name
		if rename && st.op.Name != st.fullMethod {
			st.span.SetName(st.op.Name)
		}
	}
	if st.span.IsRecording() {
		b := spanBufs.Get().(*spanBuf)
		a := b.attrs[:0]
		if !h.client {
			a = st.startAttributes(a)
		}
		st.span.SetAttributes(st.endAttributes(a, code)...)
		b.attrs = [len(b.attrs)]attribute.KeyValue{}
		spanBufs.Put(b)
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
	st.op.Metrics.Observe(ctx, latency, flags)
	if !h.access.On {
		return
	}
	h.logs.Access(ctx, &logging.AccessEntry{
		Level:     h.access.Level(flags),
		Protocol:  valueGRPC,
		Method:    st.fullMethod,
		Route:     route,
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

// endAttributes appends the attributes known only once the RPC ran (at most
// 8, the server's peer details included).
func (st *rpcState) endAttributes(a []attribute.KeyValue, code codes.Code) []attribute.KeyValue {
	a = append(a,
		keyRPCStatusCode.Int(int(code)),
		keyMsgSent.Int64(st.sent.Load()),
		keyMsgReceived.Int64(st.received.Load()))
	if st.authority != "" {
		a = append(a, keyURLFull.String(st.urlFull()))
	}
	if st.userAgent != "" {
		a = append(a, keyUserAgent.String(st.userAgent))
	}
	if st.peerHost != "" {
		a = append(a, keyPeerAddress.String(st.peerHost))
		if st.peerPort > 0 {
			a = append(a, keyPeerPort.Int(int(st.peerPort)))
		}
	}
	if st.clientIP != "" {
		a = append(a, keyClientAddress.String(st.clientIP))
	}
	return a
}

// urlFull is "grpc://" + authority + method, built in st.urlBuf when it fits.
func (st *rpcState) urlFull() string {
	const scheme = "grpc://"
	if len(scheme)+len(st.authority)+len(st.fullMethod) > len(st.urlBuf) {
		return scheme + st.authority + st.fullMethod
	}
	b := append(append(append(st.urlBuf[:0], scheme...), st.authority...), st.fullMethod...)
	return bytesToString(b)
}

// splitHostPort splits "host:port" without allocating; a missing or bad port
// yields 0 and the whole string as host. The common "host:port" (one colon,
// no brackets), which net.SplitHostPort would accept as is, is cut directly.
func splitHostPort(hp string) (string, int) {
	colon := -1
	for i := 0; i < len(hp); i++ {
		if c := hp[i]; c == '[' || c == ']' || c == ':' && colon >= 0 {
			colon = -2 // brackets or several colons: net.SplitHostPort decides
			break
		} else if c == ':' {
			colon = i
		}
	}
	if colon >= 0 {
		p, err := strconv.Atoi(hp[colon+1:])
		if err != nil {
			return hp[:colon], 0
		}
		return hp[:colon], p
	}
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
