package xraysampling

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/reqstate"
)

// fakeClock is a settable clock safe for concurrent reads.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration)   { c.ns.Add(int64(d)) }
func constRandom(v float64) func() float64 { return func() float64 { return v } }

func params(kv ...attribute.KeyValue) sdktrace.SamplingParameters {
	return sdktrace.SamplingParameters{ParentContext: context.Background(), Name: "GET /", Kind: trace.SpanKindServer, Attributes: kv}
}

func httpParams(method, path, host string) sdktrace.SamplingParameters {
	return params(
		attribute.String("http.request.method", method),
		attribute.String("url.path", path),
		attribute.String("server.address", host),
	)
}

// stateParams is params(start...) with a parent context carrying a request
// state whose sampler-only inputs are sampling.
func stateParams(start, sampling []attribute.KeyValue) sdktrace.SamplingParameters {
	p := params(start...)
	p.ParentContext = reqstate.With(context.Background(), &reqstate.State{Sampling: sampling})
	return p
}

func countSampled(s *Sampler, p sdktrace.SamplingParameters, n int) int {
	c := 0
	for range n {
		if s.ShouldSample(p).Decision == sdktrace.RecordAndSample {
			c++
		}
	}
	return c
}

func TestDefaultRuleReservoirThenRate(t *testing.T) {
	tests := []struct {
		name      string
		random    float64
		perSecond int // expected sampled out of 100 requests in one second
	}{
		{"rate never hits", 0.99, 1},    // reservoir only
		{"rate always hits", 0.0, 100},  // 0.0 < 0.05
		{"rate just above 5%", 0.05, 1}, // Bernoulli is random < rate
		{"rate just below 5%", 0.0499, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			s, err := New(Options{Now: clk.Now, Random: constRandom(tc.random)})
			require.NoError(t, err)
			p := httpParams("GET", "/", "example.com")
			for sec := 0; sec < 3; sec++ {
				assert.Equal(t, tc.perSecond, countSampled(s, p, 100), "second %d", sec)
				clk.Add(time.Second)
			}
		})
	}
}

func TestReservoirConcurrent(t *testing.T) {
	var r reservoir
	var got atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if r.take(42, 25) {
					got.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(25), got.Load())
	assert.True(t, r.take(43, 25), "a new second refills")
	assert.False(t, r.take(43, 0))
}

func TestLocalRulesMatching(t *testing.T) {
	data, err := os.ReadFile("testdata/rules-v2.json")
	require.NoError(t, err)
	clk := newFakeClock()
	s, err := New(Options{Rules: data, Now: clk.Now, Random: constRandom(0.4)})
	require.NoError(t, err)
	tests := []struct {
		name    string
		p       sdktrace.SamplingParameters
		rule    string
		sampled int // out of 10 in one second
	}{
		{"health never sampled", httpParams("GET", "/health", "a"), "health checks", 0},
		{"health case-insensitive", httpParams("get", "/HEALTHZ", "a"), "health checks", 0},
		{"orders: 2 reservoir + 50%", httpParams("POST", "/api/orders/7", "SHOP.example.com"), "orders", 10},
		{"orders wrong host", httpParams("POST", "/api/orders/7", "other"), "Default", 1},
		{"legacy attributes", params(attribute.String("http.method", "GET"), attribute.String("http.target", "/health?x=1")), "health checks", 0},
		{"no attributes: only * rules", params(), "Default", 1},
		{"non-string attribute ignored", params(attribute.Int("http.request.method", 3), attribute.String("url.path", "/x")), "Default", 1},
		// o11y's middleware starts server spans without attributes and hands
		// the sampler its inputs through the request state.
		{"inputs from the request state", stateParams(nil, httpParams("GET", "/health", "a").Attributes), "health checks", 0},
		{"request state without inputs", stateParams(nil, nil), "Default", 1},
		{"start attributes win over the request state",
			stateParams(httpParams("POST", "/api/orders/7", "shop.example.com").Attributes, httpParams("GET", "/health", "a").Attributes), "orders", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.rule, s.RuleName(tc.p))
			assert.Equal(t, tc.sampled, countSampled(s, tc.p, 10))
			clk.Add(time.Second)
		})
	}
}

func TestRecordRuleNameAndTracestate(t *testing.T) {
	s, err := New(Options{RecordRuleName: true, Random: constRandom(0.99)})
	require.NoError(t, err)
	ts, err := trace.ParseTraceState("vendor=value")
	require.NoError(t, err)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceState: ts})
	p := params()
	p.ParentContext = trace.ContextWithSpanContext(context.Background(), parent)
	res := s.ShouldSample(p) // reservoir token
	assert.Equal(t, sdktrace.RecordAndSample, res.Decision)
	assert.Equal(t, []attribute.KeyValue{attribute.String(RuleAttributeKey, "Default")}, res.Attributes)
	assert.Equal(t, "vendor=value", res.Tracestate.String())
	res = s.ShouldSample(p)
	assert.Equal(t, sdktrace.Drop, res.Decision)
	assert.Nil(t, res.Attributes)
	assert.Equal(t, "vendor=value", res.Tracestate.String())
}

func TestNilSampler(t *testing.T) {
	var s *Sampler
	assert.Equal(t, sdktrace.Drop, s.ShouldSample(params()).Decision)
	assert.Equal(t, sdktrace.Drop, s.ShouldSample(sdktrace.SamplingParameters{}).Decision)
	assert.NotEmpty(t, s.Description())
	assert.Equal(t, "", s.RuleName(params()))
	assert.NoError(t, s.Shutdown(context.Background()))
}

func TestDescription(t *testing.T) {
	s, err := New(Options{})
	require.NoError(t, err)
	assert.Equal(t, "XRaySampler{rules=1}", s.Description())
	assert.NoError(t, s.Close(), "Close without centralized polling is a no-op")
}

// TestWithTracerProvider checks the start-attribute contract end to end:
// the SDK hands the sampler the attributes given at span start.
func TestWithTracerProvider(t *testing.T) {
	s, err := New(Options{Rules: []byte(`{"version":2,"default":{"fixed_target":0,"rate":0},"rules":[{"description":"api","http_method":"GET","url_path":"/api/*","fixed_target":0,"rate":1}]}`)})
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer("test")
	_, api := tr.Start(context.Background(), "GET /api/x", trace.WithAttributes(
		attribute.String("http.request.method", "GET"), attribute.String("url.path", "/api/x")))
	_, other := tr.Start(context.Background(), "GET /other", trace.WithAttributes(
		attribute.String("http.request.method", "GET"), attribute.String("url.path", "/other")))
	assert.True(t, api.SpanContext().IsSampled())
	assert.False(t, other.SpanContext().IsSampled())
	api.End()
	other.End()
}
