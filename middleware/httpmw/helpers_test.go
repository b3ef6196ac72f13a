package httpmw_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/o11ytest"
)

func newSDK(t testing.TB, opts ...func(*o11y.Config)) (*o11y.SDK, *o11ytest.Recorder) {
	t.Helper()
	return o11ytest.New(t, opts...)
}

func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request with the given headers and returns the response with
// its body read.
func do(t testing.TB, c *http.Client, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp, string(b)
}

func spansOfKind(rec *o11ytest.Recorder, kind trace.SpanKind) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range rec.Spans() {
		if s.SpanKind == kind {
			out = append(out, s)
		}
	}
	return out
}

func oneServerSpan(t testing.TB, rec *o11ytest.Recorder) tracetest.SpanStub {
	t.Helper()
	ss := spansOfKind(rec, trace.SpanKindServer)
	require.Len(t, ss, 1, "server spans")
	return ss[0]
}

func attr(s tracetest.SpanStub, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(s tracetest.SpanStub, key string) string {
	v, _ := attr(s, key)
	return v.String()
}

// accessLines returns the decoded access log lines.
func accessLines(rec *o11ytest.Recorder) []map[string]any {
	var out []map[string]any
	for _, l := range rec.Logs() {
		if l["msg"] == "access" {
			out = append(out, l)
		}
	}
	return out
}

// emfFor returns the aggregated EMF document for one operation, or nil.
func emfFor(rec *o11ytest.Recorder, op string) map[string]any {
	for _, d := range rec.EMF() {
		if d["Operation"] == op {
			return d
		}
	}
	return nil
}

// metricSum returns count and sum of an EMF metric that is either a number
// or a {Values, Counts} distribution.
func metricSum(v any) (count, sum float64) {
	switch m := v.(type) {
	case float64:
		return 1, m
	case map[string]any:
		vals, _ := m["Values"].([]any)
		cnts, _ := m["Counts"].([]any)
		for i := range vals {
			x, _ := vals[i].(float64)
			n := 1.0
			if i < len(cnts) {
				n, _ = cnts[i].(float64)
			}
			count += n
			sum += x * n
		}
		return count, sum
	}
	return 0, 0
}

func containsAny(s string, needles ...string) string {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

func benchRequest() *http.Request {
	r, _ := http.NewRequest("GET", "http://example.com/orders/42", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}

func benchSDK(tb testing.TB, sampler string) *o11y.SDK {
	sdk, _ := newSDK(tb, func(c *o11y.Config) {
		c.Output = io.Discard
		c.Traces.SpanProcessors = nil // measure the span, not an exporter
		c.Traces.Sampler = o11y.SamplerName(sampler)
	})
	return sdk
}
