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

// incoming reads one server RPC's incoming metadata. It reads the map
// grpc-go put in the context in place (see incomingMDKey): a key that is
// there costs one map lookup, where metadata.ValueFromIncomingContext copies
// its values, and a key that is absent costs nothing once the map is known to
// hold only lowercase ASCII keys (grpc-go's transport writes no others),
// where ValueFromIncomingContext scans every entry with strings.EqualFold on
// each miss. The result is the same as ValueFromIncomingContext's first
// value, mixed-case keys in a context built by hand included.
type incoming struct {
	ctx context.Context // the context the metadata came from
	md  metadata.MD     // read in place, never written; nil without metadata
	// inPlace: md was read from ctx in place; otherwise every read goes
	// through metadata.ValueFromIncomingContext(ctx, key).
	inPlace bool
	// keys: 0 not checked yet, keysLower every key of md is lowercase
	// ASCII (so a lowercase ASCII key that misses is absent), keysMixed
	// some key is not (a miss falls back to the case-insensitive scan).
	keys uint8
}

const (
	keysLower = 1 + iota
	keysMixed
)

func newIncoming(ctx context.Context) incoming {
	if incomingMDKey == nil {
		return incoming{ctx: ctx}
	}
	md, _ := ctx.Value(incomingMDKey).(metadata.MD)
	return incoming{ctx: ctx, md: md, inPlace: true}
}

// get returns the first value of key, or "" (metadata keys are
// case-insensitive: an exact match wins, else the first key equal under
// strings.EqualFold, as metadata.ValueFromIncomingContext does).
func (in *incoming) get(key string) string {
	if !in.inPlace {
		return firstIncoming(in.ctx, key)
	}
	if v, ok := in.md[key]; ok {
		return first(v)
	}
	if len(in.md) == 0 {
		return ""
	}
	if in.keys == 0 {
		in.keys = keysLower
		for k := range in.md {
			if !lowerASCII(k) {
				in.keys = keysMixed
				break
			}
		}
	}
	if in.keys == keysLower && lowerASCII(key) {
		return "" // two different lowercase ASCII strings never fold equal
	}
	for k, v := range in.md {
		if strings.EqualFold(k, key) {
			return first(v)
		}
	}
	return ""
}

// lowerASCII reports whether s has no uppercase ASCII letter and no
// non-ASCII byte (some non-ASCII letters fold to ASCII ones: K, ſ).
func lowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// incomingMDKey is the context key grpc-go stores the incoming metadata map
// under, learnt once by letting metadata.ValueFromIncomingContext ask a
// context of ours for it, and checked against metadata.NewIncomingContext;
// nil (every read through ValueFromIncomingContext) if grpc-go ever stores
// something else.
var incomingMDKey = learnIncomingMDKey()

// keyCatcher is a context that records the key it is asked for.
type keyCatcher struct {
	context.Context
	key any
}

func (c *keyCatcher) Value(key any) any {
	c.key = key
	return nil
}

func learnIncomingMDKey() any {
	c := &keyCatcher{Context: context.Background()}
	metadata.ValueFromIncomingContext(c, traceHeaderKey)
	if c.key == nil {
		return nil
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{traceHeaderKey: {"v"}})
	md, ok := ctx.Value(c.key).(metadata.MD)
	if !ok || len(md) != 1 || first(md[traceHeaderKey]) != "v" {
		return nil
	}
	return c.key
}

// incomingCarrier is the propagator's carrier for a server RPC's incoming
// metadata: it serves the already-read x-amzn-trace-id from xray and reads
// other keys through in.
type incomingCarrier struct {
	in   incoming
	xray string
}

func (c *incomingCarrier) Get(key string) string {
	k := lowerKey(key)
	if k == traceHeaderKey {
		return c.xray
	}
	return c.in.get(k)
}

func (c *incomingCarrier) Set(string, string) {}
func (c *incomingCarrier) Keys() []string     { return incomingKeys(c.in.ctx) }

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
	return first(metadata.ValueFromIncomingContext(ctx, key))
}
