package httpmw

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/o11y-go/o11y/internal/mwcore"
)

func TestPatternRoute(t *testing.T) {
	for pattern, want := range map[string]string{
		"":                            "",
		"/":                           "/",
		"/orders/{id}":                "/orders/{id}",
		"GET /orders/{id}":            "/orders/{id}",
		"GET  /x":                     "/x",
		"example.com/foo/":            "/foo/",
		"POST example.com/foo/{$}":    "/foo/{$}",
		"GET api.example.com:8080/v1": "/v1",
	} {
		r := &http.Request{Pattern: pattern}
		assert.Equal(t, want, PatternRoute(r), pattern)
	}
}

func TestAddressHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4:5678": "1.2.3.4", "[::1]:80": "::1", "[::1]": "::1", "host": "host", "": "",
	} {
		assert.Equal(t, want, peerHost(in), "peerHost(%q)", in)
	}
	for in, want := range map[string]int{
		"example.com": 0, "example.com:8080": 8080, "[::1]:443": 443, "[::1]": 0, "h:99999": 0, "h:x1": 0, "h:": 0,
	} {
		assert.Equal(t, want, hostPort(in), "hostPort(%q)", in)
	}
	for in, want := range map[string]string{
		"example.com": "example.com", "example.com:80": "example.com", "[::1]:80": "::1", "": "",
	} {
		assert.Equal(t, want, hostOnly(in), "hostOnly(%q)", in)
	}
}

func TestNormMethod(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"} {
		assert.Equal(t, m, normMethod(m))
	}
	for _, m := range []string{"get", "PROPFIND", "", "G E T"} {
		assert.Equal(t, methodOther, normMethod(m))
	}
}

func TestHeaderCarrier(t *testing.T) {
	h := http.Header{}
	h.Set("traceparent", "tp")
	h.Set("baggage", "b")
	h.Set("X-Amzn-Trace-Id", "x")
	h.Set("X-Custom", "c")
	c := headerCarrier(h)
	assert.Equal(t, "tp", c.Get("traceparent"))
	assert.Equal(t, "b", c.Get("baggage"))
	assert.Equal(t, "", c.Get("tracestate"))
	assert.Equal(t, "x", c.Get("x-amzn-trace-id"))
	assert.Equal(t, "x", c.Get("X-Amzn-Trace-Id"))
	assert.Equal(t, "c", c.Get("x-custom"))
	assert.Len(t, c.Keys(), 4)
	c.Set("tracestate", "ts")
	assert.Equal(t, "ts", c.Get("tracestate"))
}

func FuzzUntrustedHeaders(f *testing.F) {
	for _, s := range []string{"", "9.9.9.9, 1.1.1.1", "abc-123", "GET example.com/x/{id}", "[::1]:80", "h:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p := hostPort(s); p < 0 || p > 65535 {
			t.Fatalf("hostPort(%q) = %d", s, p)
		}
		_ = peerHost(s)
		_ = hostOnly(s)
		_ = PatternRoute(&http.Request{Pattern: s})
	})
}

func TestDefaultsAreTheCore(t *testing.T) {
	assert.Equal(t, mwcore.RequestIDHeader, DefaultRequestIDHeader)
}
