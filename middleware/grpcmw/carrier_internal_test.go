package grpcmw

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	"github.com/o11y-go/o11y/internal/mwcore"
	"github.com/o11y-go/o11y/tracing"
)

// TestCarriersWithSDKPropagator runs the metadata carriers through the SDK's
// own propagator (X-Ray + W3C + baggage), which asks for canonical HTTP
// header names while gRPC metadata keys are lowercase.
func TestCarriersWithSDKPropagator(t *testing.T) {
	prop := tracing.NewPropagator()
	const xh = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-amzn-trace-id", xh, "baggage", "k=v"))
	c := &incomingCarrier{xray: xh, in: newIncoming(in)}
	ctx := prop.Extract(in, c)
	sc := trace.SpanContextFromContext(ctx)
	require.True(t, sc.IsValid())
	assert.Equal(t, "5759e988bd862e3fe1be46a994272793", sc.TraceID().String())
	assert.Equal(t, "53995c3f42cd8ad8", sc.SpanID().String())
	_, ok := tracing.IncomingHeader(ctx)
	assert.True(t, ok)
	assert.Equal(t, "k=v", c.Get("Baggage"))
	assert.ElementsMatch(t, []string{"x-amzn-trace-id", "baggage"}, c.Keys())

	var out outgoingCarrier
	prop.Inject(ctx, &out)
	assert.Contains(t, out.Keys(), "x-amzn-trace-id")
	assert.Contains(t, out.Keys(), "traceparent")
	assert.Equal(t, out.Get("X-Amzn-Trace-Id"), out.Get("x-amzn-trace-id"))
	assert.Contains(t, out.Get("x-amzn-trace-id"), "Root=1-5759e988-bd862e3fe1be46a994272793")
	assert.Equal(t, "k=v", out.Get("baggage"))
}

func TestOutgoingCarrierBounded(t *testing.T) {
	var c outgoingCarrier
	for i := 0; i < 3*maxInjectedPairs; i++ {
		c.Set(string(rune('a'+i)), "v")
	}
	c.Set("a", "w") // overwrite, not append
	assert.Len(t, c.Keys(), maxInjectedPairs)
	assert.Equal(t, "w", c.Get("a"))
}

func TestSplitMethod(t *testing.T) {
	for in, want := range map[string][2]string{
		"/pkg.Service/Method": {"pkg.Service", "Method"},
		"/a.b.C/D":            {"a.b.C", "D"},
		"nomethod":            {"", "nomethod"},
		"/":                   {"", "/"},
		"":                    {"", ""},
	} {
		s, m := splitMethod(in)
		assert.Equal(t, want, [2]string{s, m}, in)
	}
}

func TestDefaultsAreTheCore(t *testing.T) {
	assert.Equal(t, mwcore.RequestIDKey, DefaultRequestIDHeader)
}

// TestIncomingMatchesGRPC: reading the incoming metadata in place returns
// what metadata.ValueFromIncomingContext returns (first value, exact key
// first, else a case-insensitive match), through both the in-place path and
// the fallback.
func TestIncomingMatchesGRPC(t *testing.T) {
	require.NotNil(t, incomingMDKey, "grpc-go no longer stores incoming metadata as metadata.MD: every read copies")
	kelvin := "\u212a" // folds to 'k'
	mds := map[string]metadata.MD{
		"none":      nil,
		"empty":     {},
		"transport": metadata.Pairs(":authority", "a:1", "user-agent", "ua", "x-request-id", "r1", "traceparent", "tp"),
		"repeated":  {"x-request-id": {"r1", "r2"}, "baggage": {}},
		"mixed":     {"X-Request-Id": {"R"}, "Traceparent": {"TP"}, ":authority": {"a"}},
		"both":      {"X-Request-Id": {"upper"}, "x-request-id": {"lower"}},
		"unicode":   {"x-" + kelvin + "ey": {"folded"}, "user-agent": {"ua"}},
	}
	keys := []string{"x-request-id", "traceparent", ":authority", "baggage", "user-agent", "x-key", "X-Request-Id", "absent"}
	for name, md := range mds {
		ctx := context.Background()
		if md != nil {
			ctx = metadata.NewIncomingContext(ctx, md)
		}
		for _, key := range keys {
			want := first(metadata.ValueFromIncomingContext(ctx, key))
			in := newIncoming(ctx)
			assert.Equal(t, want, in.get(key), "%s: %s", name, key)
			slow := incoming{ctx: ctx}
			assert.Equal(t, want, slow.get(key), "%s: %s (fallback)", name, key)
		}
	}
}

// FuzzSplitHostPort: the direct cut of "host:port" gives what
// net.SplitHostPort and strconv.Atoi give.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"orders:50051", "127.0.0.1:50051", "[::1]:443", "::1", "host", "host:", ":80",
		"a:b:c", "[v6]", "x]:1", "dns:///orders:443", "h:+1", "h:-1", "h:99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hp string) {
		wantHost, wantPort := hp, 0
		if h, p, err := net.SplitHostPort(hp); err == nil {
			wantHost = h
			if n, err := strconv.Atoi(p); err == nil {
				wantPort = n
			}
		}
		if h, p := splitHostPort(hp); h != wantHost || p != wantPort {
			t.Fatalf("splitHostPort(%q) = %q, %d; net.SplitHostPort gives %q, %d", hp, h, p, wantHost, wantPort)
		}
	})
}
