package grpcmw

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"
)

// Metadata keys this package reads or writes. gRPC metadata keys are
// lowercase on the wire (HTTP/2), while propagators ask for their canonical
// HTTP spelling ("X-Amzn-Trace-Id"), so the carriers lowercase keys.
const (
	traceHeaderKey   = "x-amzn-trace-id"
	authorityKey     = ":authority"
	maxInjectedPairs = 8
)

// lowerKey returns key in lowercase without allocating for the keys the
// standard propagators use.
func lowerKey(key string) string {
	switch key {
	case "X-Amzn-Trace-Id", traceHeaderKey:
		return traceHeaderKey
	case "traceparent", "Traceparent":
		return "traceparent"
	case "tracestate", "Tracestate":
		return "tracestate"
	case "baggage", "Baggage":
		return "baggage"
	}
	return strings.ToLower(key)
}

// incomingCarrier reads the incoming metadata of ctx for a propagator. It
// reads keys on demand, so extraction costs nothing for absent keys, and it
// serves the already-read x-amzn-trace-id from xray.
type incomingCarrier struct {
	ctx  context.Context
	xray string
}

func (c *incomingCarrier) Get(key string) string { return incomingGet(c.ctx, c.xray, key) }

func incomingGet(ctx context.Context, xray, key string) string {
	k := lowerKey(key)
	if k == traceHeaderKey {
		return xray
	}
	v := metadata.ValueFromIncomingContext(ctx, k)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (c *incomingCarrier) Set(string, string) {}

func (c *incomingCarrier) Keys() []string { return incomingKeys(c.ctx) }

// stateCarrier is the incomingCarrier of a server RPC during TagRPC: the
// rpcState itself, so passing it as an interface allocates nothing and the
// state holds no extra context field. Its ctx.Context is the pre-RPC context
// until tagServer sets the extracted one (the span's parent).
type stateCarrier rpcState

func (c *stateCarrier) Get(key string) string { return incomingGet(c.ctx.Context, c.xray, key) }
func (c *stateCarrier) Set(string, string)    {}
func (c *stateCarrier) Keys() []string        { return incomingKeys(c.ctx.Context) }

func incomingKeys(ctx context.Context) []string {
	md, _ := metadata.FromIncomingContext(ctx)
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	return keys
}

// outgoingCarrier collects what a propagator injects so it can be appended to
// the outgoing metadata in one step (one context, not one per key).
type outgoingCarrier struct {
	kv [2 * maxInjectedPairs]string
	n  int
}

func (c *outgoingCarrier) Get(key string) string {
	k := lowerKey(key)
	for i := 0; i < c.n; i += 2 {
		if c.kv[i] == k {
			return c.kv[i+1]
		}
	}
	return ""
}

func (c *outgoingCarrier) Set(key, value string) {
	k := lowerKey(key)
	for i := 0; i < c.n; i += 2 {
		if c.kv[i] == k {
			c.kv[i+1] = value
			return
		}
	}
	if c.n == len(c.kv) {
		return // more fields than any standard propagator writes; drop
	}
	c.kv[c.n], c.kv[c.n+1] = k, value
	c.n += 2
}

func (c *outgoingCarrier) Keys() []string {
	keys := make([]string, 0, c.n/2)
	for i := 0; i < c.n; i += 2 {
		keys = append(keys, c.kv[i])
	}
	return keys
}

// firstIncoming returns the first value of an incoming metadata key, or "".
func firstIncoming(ctx context.Context, key string) string {
	v := metadata.ValueFromIncomingContext(ctx, key)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
