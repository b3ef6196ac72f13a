package mwcore

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/tracing"
)

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true}, // UUID
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", true},           // ULID
		{"1-5759e988-bd862e3fe1be46a994272793", true},  // X-Ray trace id
		{"dGVzdA+/==", true},                           // base64
		{"svc@host:8080/req.1_2", true},
		{strings.Repeat("a", MaxRequestIDLen), true},
		{strings.Repeat("a", MaxRequestIDLen+1), false},
		{"", false},
		{"a b", false},
		{`a"b`, false},
		{`a\b`, false},
		{"a\nb", false},
		{"a,b", false},
		{"a;b", false},
		{"<script>", false},
		{"é", false},
	} {
		if got := ValidRequestID(tc.id); got != tc.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestGeneratedRequestID(t *testing.T) {
	a, b := NewRequestID(), NewRequestID()
	if len(a) != GeneratedRequestIDLen || !ValidRequestID(a) || a == b {
		t.Fatalf("generated ids %q, %q", a, b)
	}
	for _, c := range a {
		if !strings.ContainsRune(hexDigits, c) {
			t.Fatalf("%q is not lowercase hex", a)
		}
	}
}

func TestClientAddress(t *testing.T) {
	const peer = "10.0.0.9"
	for _, tc := range []struct {
		xff, want string
		fwd       bool
	}{
		{"", peer, false},
		{"203.0.113.7", "203.0.113.7", true},
		{" 203.0.113.7 , 10.0.0.1", "203.0.113.7", true},
		{"2001:db8::1, 10.0.0.1", "2001:db8::1", true},
		{"[2001:db8::1]:443", "2001:db8::1", true},
		{"203.0.113.7:5678", "203.0.113.7", true},
		{"unknown, 203.0.113.7", peer, false},
		{"evil.example.com", peer, false},
		{"203.0.113.7\"} injected", peer, false},
		{"fe80::1%eth0", peer, false},
		{"999.1.1.1", peer, false},
		{"abc", peer, false},
		{strings.Repeat("1", 65), peer, false},
	} {
		got, fwd := ClientAddress(tc.xff, peer)
		if got != tc.want || fwd != tc.fwd {
			t.Errorf("ClientAddress(%q) = %q, %v; want %q, %v", tc.xff, got, fwd, tc.want, tc.fwd)
		}
	}
}

func FuzzClientAddress(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "[::1]:80, x", "1.2.3.4:99999", "fe80::1%25eth0", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, xff string) {
		got, fwd := ClientAddress(xff, "peer")
		if !fwd {
			if got != "peer" {
				t.Fatalf("not forwarded but %q", got)
			}
			return
		}
		if len(got) > maxForwardedLen || !strings.Contains(xff, got) {
			t.Fatalf("%q from %q", got, xff)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c == '"' || c == '\\' || c < 0x20 || c == ' ' || c == ',' {
				t.Fatalf("unsafe byte in %q", got)
			}
		}
	})
}

func TestAccessPolicy(t *testing.T) {
	for _, tc := range []struct {
		cfg                string
		on                 bool
		ok, clientErr, flt slog.Level
	}{
		{"", true, slog.LevelInfo, slog.LevelWarn, slog.LevelError},
		{"info", true, slog.LevelInfo, slog.LevelWarn, slog.LevelError},
		{"DEBUG", true, slog.LevelDebug, slog.LevelWarn, slog.LevelError},
		{"warn", true, slog.LevelWarn, slog.LevelWarn, slog.LevelError},
		{"off", false, 0, 0, 0},
		{"false", false, 0, 0, 0},
	} {
		a := AccessFromConfig(tc.cfg)
		if a.On != tc.on {
			t.Errorf("%q: on = %v", tc.cfg, a.On)
		}
		if !a.On {
			continue
		}
		if got := []slog.Level{a.Level(0), a.Level(metrics.FlagError), a.Level(metrics.FlagError | metrics.FlagThrottle), a.Level(metrics.FlagFault)}; got[0] != tc.ok || got[1] != tc.clientErr || got[2] != tc.clientErr || got[3] != tc.flt {
			t.Errorf("%q: levels %v", tc.cfg, got)
		}
	}
	if AccessOf(nil).On {
		t.Error("AccessOf(nil) is on")
	}
	if a := AccessOf(slog.LevelError); !a.On || a.Level(0) != slog.LevelError || a.Level(metrics.FlagError) != slog.LevelError {
		t.Errorf("AccessOf(Error) = %+v", a)
	}
}

func TestFlags(t *testing.T) {
	want := map[uint32]metrics.Flags{
		0: 0, 1: metrics.FlagError, 2: metrics.FlagFault, 3: metrics.FlagError, 4: metrics.FlagFault,
		5: metrics.FlagError, 6: metrics.FlagError, 7: metrics.FlagError,
		8: metrics.FlagError | metrics.FlagThrottle, 9: metrics.FlagError, 10: metrics.FlagError,
		11: metrics.FlagError, 12: metrics.FlagFault, 13: metrics.FlagFault, 14: metrics.FlagFault,
		15: metrics.FlagFault, 16: metrics.FlagError, 17: metrics.FlagFault, 1 << 31: metrics.FlagFault,
	}
	for c, f := range want {
		if got := GRPCFlags(c); got != f {
			t.Errorf("GRPCFlags(%d) = %v, want %v", c, got, f)
		}
	}
	for status, f := range map[int]metrics.Flags{200: 0, 302: 0, 400: metrics.FlagError, 404: metrics.FlagError,
		429: metrics.FlagError | metrics.FlagThrottle, 500: metrics.FlagFault, 503: metrics.FlagFault, 600: 0} {
		if got := HTTPFlags(status); got != f {
			t.Errorf("HTTPFlags(%d) = %v, want %v", status, got, f)
		}
	}
}

var (
	tid, _ = trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	sid, _ = trace.SpanIDFromHex("53995c3f42cd8ad8")
)

func TestAppendTraceHeader(t *testing.T) {
	sampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
	xray := tracing.NewPropagator("xray")
	w3c := tracing.NewPropagator("tracecontext")
	for _, tc := range []struct {
		name string
		prop propagation.TextMapPropagator
		in   string
		sc   trace.SpanContext
		want string
	}{
		{"no incoming", xray, "", sampled, "Root=1-5759e988-bd862e3fe1be46a994272793"},
		{"sampled=? decided yes", xray, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111;Sampled=?", sampled,
			"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111;Sampled=1"},
		{"sampled=? decided no", xray, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?", unsampled,
			"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"},
		{"no Sampled field", xray, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111", sampled,
			"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=1111111111111111"},
		{"other propagator, same trace", w3c, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?", sampled,
			"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
		{"other propagator, other trace", w3c, "Root=1-11111111-bd862e3fe1be46a994272793;Sampled=?", sampled,
			"Root=1-5759e988-bd862e3fe1be46a994272793"},
		{"no trace", xray, "", trace.SpanContext{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.prop.Extract(context.Background(), propagation.MapCarrier{"x-amzn-trace-id": tc.in})
			var buf [MaxTraceHeaderLen]byte
			got := string(AppendTraceHeader(buf[:0], ctx, tc.sc, tc.in))
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if len(got) > MaxTraceHeaderLen {
				t.Errorf("%d > MaxTraceHeaderLen", len(got))
			}
		})
	}
}

type key struct{ method, route string }

func name(k key) string { return k.method + " " + k.route }

// TestOpsShareTheRecorderCap: past the recorder's MaxOperations the span
// name and the metrics Operation are both "other"; before, they are the
// name.
func TestOpsShareTheRecorderCap(t *testing.T) {
	rec := metrics.New(metrics.Options{MaxOperations: 3, FlushInterval: -1, Writer: discard{}})
	defer rec.Shutdown(context.Background())
	rec.Operation("custom") // the application's own operation counts too
	ops := NewOps(rec, name)
	a, b := ops.Get(key{"GET", "/a"}), ops.Get(key{"GET", "/b"})
	c := ops.Get(key{"GET", "/c"})
	for _, tc := range []struct {
		op   *Op
		want string
	}{{a, "GET /a"}, {b, "GET /b"}, {c, metrics.OtherOperation}} {
		if tc.op.Name != tc.want || tc.op.Metrics.Name() != tc.want {
			t.Errorf("span name %q, metrics Operation %q, want %q", tc.op.Name, tc.op.Metrics.Name(), tc.want)
		}
	}
	if ops.Get(key{"GET", "/a"}) != a || ops.Get(key{"POST", "/d"}) != c {
		t.Error("entries are not reused")
	}
	if ops.Lookup(key{"GET", "/never"}) != nil || ops.Lookup(key{"GET", "/a"}) != a {
		t.Error("Lookup admits or misses")
	}
	// A second guard on the same recorder sees the same cap.
	if op := NewOps(rec, func(s string) string { return s }).Get("/pkg.S/M"); op.Name != metrics.OtherOperation {
		t.Errorf("second guard admitted %q past the shared cap", op.Name)
	}
}

func TestOpsWithoutMetrics(t *testing.T) {
	ops := NewOps[string](nil, func(s string) string { return s })
	for i := 0; i < metrics.DefaultMaxOperations; i++ {
		if op := ops.Get(strconv.Itoa(i)); op.Name != strconv.Itoa(i) || op.Metrics != nil {
			t.Fatalf("op %d: %+v", i, op)
		}
	}
	for i := 0; i < maxFoldedKeys+10; i++ {
		if op := ops.Get("x" + strconv.Itoa(i)); op.Name != metrics.OtherOperation {
			t.Fatalf("past the cap: %q", op.Name)
		}
	}
	if n := len(*ops.m.Load()); n != metrics.DefaultMaxOperations+maxFoldedKeys {
		t.Errorf("%d keys remembered", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
