package grpcmw

import (
	"log/slog"
	"strings"

	"github.com/o11y-go/o11y/internal/mwcore"
)

// Predicate reports whether an RPC, given its full method name
// ("/pkg.Service/Method"), matches. Predicates are built once and called
// once per RPC; they must not allocate. Compose them with [Or], [And] and
// [Not].
type Predicate func(fullMethod string) bool

// MethodPrefix matches full method names starting with any of prefixes, for
// example MethodPrefix("/grpc.health.v1.Health/").
func MethodPrefix(prefixes ...string) Predicate {
	ps := append([]string(nil), prefixes...)
	return func(m string) bool {
		for _, p := range ps {
			if strings.HasPrefix(m, p) {
				return true
			}
		}
		return false
	}
}

// Method matches exactly the given full method names.
func Method(fullMethods ...string) Predicate {
	set := make(map[string]struct{}, len(fullMethods))
	for _, m := range fullMethods {
		set[m] = struct{}{}
	}
	return func(m string) bool { _, ok := set[m]; return ok }
}

// Or matches when any of preds matches; Or() matches nothing. Nil entries
// are ignored.
func Or(preds ...Predicate) Predicate {
	ps := compact(preds)
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return func(m string) bool {
		for _, p := range ps {
			if p(m) {
				return true
			}
		}
		return false
	}
}

// And matches when every one of preds matches; And() matches everything.
func And(preds ...Predicate) Predicate {
	ps := compact(preds)
	return func(m string) bool {
		for _, p := range ps {
			if !p(m) {
				return false
			}
		}
		return true
	}
}

// Not inverts p (a nil p matches nothing, so Not(nil) matches everything).
func Not(p Predicate) Predicate {
	return func(m string) bool { return p == nil || !p(m) }
}

func compact(preds []Predicate) []Predicate {
	out := make([]Predicate, 0, len(preds))
	for _, p := range preds {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// DefaultSkip is the predicate in force unless [WithSkip] replaces it: the
// gRPC health service (grpc.health.v1.Health) and server reflection
// (grpc.reflection.*), which load balancers and tools call far more often
// than anything worth tracing.
var DefaultSkip = MethodPrefix("/grpc.health.v1.Health/", "/grpc.reflection.")

// DefaultRequestIDHeader is the metadata key the request id is read from,
// returned in and forwarded in unless [WithRequestIDHeader] says otherwise.
const DefaultRequestIDHeader = "x-request-id"

// Option configures the server: [ServerOptions] and [NewServerHandler]
// (the recovery interceptors follow the handler's options). Options that
// also configure the client return a [SharedOption]; client-only options are
// [ClientOption]s, which the server does not accept, so an option can never
// be passed where it has no effect. Later options win.
type Option interface{ applyServer(*serverConfig) }

// ClientOption configures the client handler ([NewClientHandler]).
type ClientOption interface{ applyClient(*clientConfig) }

// SharedOption is an option both the server and the client accept.
type SharedOption interface {
	Option
	ClientOption
}

type common struct {
	skip          Predicate
	messageEvents bool
	reqIDKey      string
}

type serverConfig struct {
	common
	rePanic bool
	access  mwcore.Access
}

type clientConfig struct {
	common
	peerService string
}

type serverOption func(*serverConfig)

func (f serverOption) applyServer(c *serverConfig) { f(c) }

type clientOption func(*clientConfig)

func (f clientOption) applyClient(c *clientConfig) { f(c) }

// sharedOption sets a field both sides have.
type sharedOption func(*common)

func (f sharedOption) applyServer(c *serverConfig) { f(&c.common) }
func (f sharedOption) applyClient(c *clientConfig) { f(&c.common) }

// WithSkip replaces [DefaultSkip]: an RPC matching any of preds is left
// alone: no span, no metrics, no access line, no request id or response
// metadata on the server, no span and no injected metadata on the client.
// WithSkip() with no predicates instruments everything. To extend the
// default:
//
//	grpcmw.WithSkip(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/"))
func WithSkip(preds ...Predicate) SharedOption {
	p := Or(preds...)
	return sharedOption(func(c *common) { c.skip = p })
}

// WithMessageEvents adds one span event per message sent or received
// ("message" with message.type SENT/RECEIVED, message.id and
// message.uncompressed_size). Off by default: long streams would multiply
// span size and cost. Message counts are always recorded as the
// rpc.message.sent and rpc.message.received attributes.
func WithMessageEvents(on bool) SharedOption {
	return sharedOption(func(c *common) { c.messageEvents = on })
}

// WithRequestIDHeader sets the metadata key the server accepts the request
// id from and returns it in, and the key the client forwards it in
// (lowercased, as gRPC metadata keys are). Default [DefaultRequestIDHeader].
func WithRequestIDHeader(name string) SharedOption {
	name = strings.ToLower(name)
	return sharedOption(func(c *common) {
		if name != "" {
			c.reqIDKey = name
		}
	})
}

// WithRePanic makes the server panic again after recording a handler panic
// (the span, the log line and the Internal status are written first), for
// programs that prefer to crash. It takes effect in the recovery
// interceptors of [ServerOptions], or of [UnaryServerRecovery] and
// [StreamServerRecovery] next to a handler built with it.
func WithRePanic(on bool) Option {
	return serverOption(func(c *serverConfig) { c.rePanic = on })
}

// WithAccessLog sets the level of the per-RPC access line of a successful
// call (client errors are written at Warn or above, faults at Error or
// above); nil turns the line off. Default: the SDK's Config.Logs.AccessLog
// (O11Y_ACCESS_LOG: "info", "debug", "warn", "off"), else Info.
func WithAccessLog(level slog.Leveler) Option {
	a := mwcore.AccessOf(level)
	return serverOption(func(c *serverConfig) { c.access = a })
}

// WithPeerService names the service a client calls. The client span takes
// this name and carries it as peer.service, which names the X-Ray subsegment
// and the downstream node in the service map. Without it the span is named
// after the gRPC service ("pkg.Service") and the subsegment after the server
// host (server.address).
func WithPeerService(name string) ClientOption {
	return clientOption(func(c *clientConfig) { c.peerService = name })
}

// splitMethod splits "/pkg.Service/Method" into "pkg.Service" and "Method".
// A malformed name yields service "" and the whole name as method.
func splitMethod(full string) (service, method string) {
	s := strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(s, '/'); i > 0 {
		return s[:i], s[i+1:]
	}
	return "", full
}
