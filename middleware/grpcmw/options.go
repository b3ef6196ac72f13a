package grpcmw

import "strings"

// Predicate reports whether an RPC, given its full method name
// ("/pkg.Service/Method"), matches. Predicates compose with [Any].
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

// Methods matches exactly the given full method names.
func Methods(fullMethods ...string) Predicate {
	set := make(map[string]struct{}, len(fullMethods))
	for _, m := range fullMethods {
		set[m] = struct{}{}
	}
	return func(m string) bool { _, ok := set[m]; return ok }
}

// Any matches when one of ps matches (nil entries are ignored).
func Any(ps ...Predicate) Predicate {
	var list []Predicate
	for _, p := range ps {
		if p != nil {
			list = append(list, p)
		}
	}
	return func(m string) bool {
		for _, p := range list {
			if p(m) {
				return true
			}
		}
		return false
	}
}

// DefaultSkip is the predicate in force unless [WithSkip] replaces it: the
// gRPC health service (grpc.health.v1.Health) and server reflection
// (grpc.reflection.*), which load balancers and tools call far more often
// than anything worth tracing.
var DefaultSkip = MethodPrefix("/grpc.health.v1.Health/", "/grpc.reflection.")

// Option configures the handlers and interceptors of this package.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	skip          Predicate
	messageEvents bool
	peerService   string
	repanic       bool
}

func newConfig(opts []Option) *config {
	c := &config{skip: DefaultSkip}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithSkip replaces [DefaultSkip]: RPCs matching p get no span, no metrics and
// no access-log line (their request id is still set). WithSkip(nil)
// instruments everything; to extend the default, compose:
//
//	grpcmw.WithSkip(grpcmw.Any(grpcmw.DefaultSkip, grpcmw.MethodPrefix("/internal.Admin/")))
func WithSkip(p Predicate) Option { return optionFunc(func(c *config) { c.skip = p }) }

// WithMessageEvents adds one span event per message sent or received
// ("message" with message.type SENT/RECEIVED, message.id and
// message.uncompressed_size). Off by default: long streams would multiply
// span size and cost. Message counts are always recorded as the
// rpc.message.sent and rpc.message.received attributes.
func WithMessageEvents(on bool) Option { return optionFunc(func(c *config) { c.messageEvents = on }) }

// WithPeerService names the service a client calls. The client span takes
// this name and carries it as peer.service, which names the X-Ray subsegment
// and the downstream node in the service map. Without it the span is named
// after the gRPC service ("pkg.Service") and the subsegment after the server
// host (server.address). Client only.
func WithPeerService(name string) Option { return optionFunc(func(c *config) { c.peerService = name }) }

// WithRepanic makes the recovery interceptors panic again after recording the
// panic (the span, the log line and the Internal status are written first),
// for programs that prefer to crash. Recovery interceptors only.
func WithRepanic(on bool) Option { return optionFunc(func(c *config) { c.repanic = on }) }

// splitMethod splits "/pkg.Service/Method" into "pkg.Service" and "Method".
// A malformed name yields service "" and the whole name as method.
func splitMethod(full string) (service, method string) {
	s := strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(s, '/'); i > 0 {
		return s[:i], s[i+1:]
	}
	return "", full
}
